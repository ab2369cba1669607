# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.post_processors."""
