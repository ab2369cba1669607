# Copyright (c) mmmrhd contributors. All rights reserved.
"""An MMAction2-like project (scope tests): a child of every MMEngine root
registry, scope ``fakeaction``."""
