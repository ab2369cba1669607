# Copyright (c) mmmrhd contributors. All rights reserved.
"""Sphinx configuration of the mmmrhd documentation.

Build: ``make docs`` (``sphinx-build -W --keep-going -b html docs/en
docs/en/_build/html``). Works offline: no intersphinx, no remote theme.
"""
import os.path as osp
import re
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, REPO_ROOT)

version_file = osp.join(REPO_ROOT, 'mmmrhd', 'version.py')
with open(version_file) as f:
    _version_ns: dict = {}
    exec(compile(f.read(), version_file, 'exec'), _version_ns)

project = 'mmmrhd'
author = 'mmmrhd contributors'
copyright = '2026, mmmrhd contributors'
release = _version_ns['__version__']
version = release

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'myst_parser',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']

# Markdown: ::: fences and $math$; headings get anchors for #links.
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 3

# API reference: Google-style docstrings, type hints in the description.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_typehints = 'description'
autodoc_member_order = 'bysource'
autodoc_default_options = {'members': True, 'show-inheritance': True}

html_theme = 'furo'
html_title = f'mmmrhd {release}'
html_static_path: list = []

# A package that re-exports members of another package documented on its own
# (``mmmrhd.evaluation`` re-exports ``mmmrhd.evaluation.metrics``) would
# describe them twice, which Sphinx reports as "duplicate object description"
# (a build error with -W). Each member is shown only under the most specific
# api.rst package that contains its defining module (entries with
# :no-members: do not count).
with open(osp.join(osp.dirname(__file__), 'api.rst')) as f:
    API_MODULES = [
        module for module, options in re.findall(
            r'^\.\. automodule:: (\S+)\n((?:[ \t]+:.*\n)*)', f.read(), re.M)
        if ':no-members:' not in options
    ]
_documenting = {'module': ''}


def _remember_module(app, what, name, obj, options, lines) -> None:
    if what == 'module':
        _documenting['module'] = name


def _skip_documented_elsewhere(app, what, name, obj, skip, options):
    owner = getattr(obj, '__module__', None)
    current = _documenting['module']
    if what != 'module' or not current or not isinstance(owner, str):
        return None
    homes = [
        module for module in API_MODULES
        if owner == module or owner.startswith(module + '.')
    ]
    if homes and max(homes, key=len) != current:
        return True
    return None


def setup(app):
    app.connect('autodoc-process-docstring', _remember_module)
    app.connect('autodoc-skip-member', _skip_documented_elsewhere)
