# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.engine.hooks."""
