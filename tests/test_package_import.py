# Copyright (c) mmmrhd contributors. All rights reserved.
"""A plain ``import mmmrhd`` registers every part, and stays light."""
import json
import subprocess
import sys
import textwrap

import pytest

# A few names per registry that a user reaches with the ``mmmrhd.`` prefix.
EXPECTED = {
    'MODELS': [
        'TaskWeave', 'TRDETR', 'VideoLights', 'QDDETR', 'MomentDETR',
        'MRHDDataPreprocessor', 'TaskDecoupledUnit', 'TransformerExpert',
        'FeedbackHead', 'UncertaintyJointLoss', 'MomentCriterion',
        'SaliencyCriterion', 'VideoFeatureExtractor', 'SlowFastR50'
    ],
    'TASK_UTILS': [
        'HighlightToMask', 'MomentToMask', 'HungarianMatcher',
        'MomentPostProcessor'
    ],
    'DATASETS': [
        'MRHDDataset', 'QVHighlightsDataset', 'DemoQVHighlightsDataset',
        'CharadesSTADataset', 'TVSumDataset'
    ],
    'TRANSFORMS': [
        'LoadVideoFeatures', 'AppendTEF', 'LoadTextFeatures',
        'GenerateSpanTargets', 'GenerateSaliencyLabels', 'PackMRHDInputs',
        'DecodeVideoFrames'
    ],
    'METRICS':
    ['QVHighlightsMetric', 'CharadesSTAMetric', 'TVSumMetric'],
    'HOOKS': [
        'FeedbackActivationHook', 'EpochEMAHook', 'RNGStateHook',
        'SafeCheckpointHook', 'MRHDVisualizationHook'
    ],
    'RUNNERS': ['MRHDRunner'],
    'MODEL_WRAPPERS': ['MRHDDistributedDataParallel'],
    'VISUALIZERS': ['MRHDVisualizer'],
    'FUNCTIONS': ['mrhd_collate'],
    'INFERENCERS': ['MRHDInferencer'],
}
# Optional or slow imports that only the code using them pulls in.
LAZY = ['decord', 'av', 'matplotlib', 'scipy.optimize']

SCRIPT = textwrap.dedent("""
    import importlib, json, pkgutil, sys
    import mmmrhd
    import mmmrhd.registry as R

    def names():
        return {n: sorted(getattr(R, n)._module_dict) for n in R.__all__}

    after_import = names()
    lazy = [m for m in %r if m in sys.modules]
    # now import every module of the package: nothing may be added
    for info in pkgutil.walk_packages(mmmrhd.__path__, 'mmmrhd.'):
        importlib.import_module(info.name)
    print(json.dumps(dict(after_import=after_import, lazy=lazy,
                          after_walk=names())))
    """) % (LAZY, )


@pytest.fixture(scope='module')
def fresh_import():
    proc = subprocess.run([sys.executable, '-c', SCRIPT],
                          stdin=subprocess.DEVNULL,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_plain_import_registers_expected_names(fresh_import):
    registered = fresh_import['after_import']
    for registry, names in EXPECTED.items():
        missing = sorted(set(names) - set(registered[registry]))
        assert not missing, f'{registry} lacks {missing} after import mmmrhd'


def test_plain_import_registers_every_module(fresh_import):
    # importing every submodule afterwards registers nothing new
    assert fresh_import['after_walk'] == fresh_import['after_import']
    assert sum(map(len, fresh_import['after_import'].values())) >= 90


def test_plain_import_skips_heavy_optional_modules(fresh_import):
    assert fresh_import['lazy'] == []
