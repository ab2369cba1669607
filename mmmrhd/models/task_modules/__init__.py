# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.task_modules."""
