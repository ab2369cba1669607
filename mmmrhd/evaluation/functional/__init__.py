# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.evaluation.functional."""
