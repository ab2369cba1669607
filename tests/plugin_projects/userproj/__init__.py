# Copyright (c) mmmrhd contributors. All rights reserved.
"""A user project that uses mmmrhd parts (scope tests)."""
