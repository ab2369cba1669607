# Copyright (c) mmmrhd contributors. All rights reserved.
import os

import numpy as np
import pytest

from mmmrhd.datasets.transforms.feature_io import (WidthRecord,
                                                   check_template,
                                                   concat_streams,
                                                   l2_normalize,
                                                   load_feature_array)
from mmmrhd.utils.errors import DataError


def test_l2_normalize_hand_computed():
    x = np.float32([[3, 4], [0, 0]])
    out = l2_normalize(x)
    np.testing.assert_allclose(out[0], [3 / (5 + 1e-5), 4 / (5 + 1e-5)],
                               rtol=1e-7)
    np.testing.assert_array_equal(out[1], [0, 0])  # eps: no division by 0
    assert out.dtype == np.float32


def test_load_feature_array_npz_npy_and_cast(factory):
    arr16 = factory.randn(5, 3).astype(np.float16)
    path = factory.npz('a.npz', features=arr16, other=np.zeros(2))
    out = load_feature_array(path, 'features', 4, 'video feature')
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, arr16[:4].astype(np.float32))
    path = factory.npy('b.npy', np.arange(6).reshape(3, 2))
    out = load_feature_array(path, None, None, 'video feature')
    np.testing.assert_array_equal(out, np.float32([[0, 1], [2, 3], [4, 5]]))
    # A 1-D array (e.g. pooler_output) is one row.
    path = factory.npz('c.npz', pooler_output=np.ones(4))
    assert load_feature_array(path, 'pooler_output', 32, 't').shape == (1, 4)


def test_load_feature_array_errors(factory):
    good = factory.npz('g.npz', features=np.ones((3, 2)), aux=np.ones(1))
    with pytest.raises(FileNotFoundError, match='video feature file not '
                       'found: .*missing.npz'):
        load_feature_array(factory.path('missing.npz'), 'features', None,
                           'video feature')
    with pytest.raises(KeyError, match=r"g\.npz has no array 'feats' "
                       r"\(available: \['aux', 'features'\]\)"):
        load_feature_array(good, 'feats', None, 'video feature')
    broken = factory.path('broken.npz')
    with open(broken, 'wb') as f:
        f.write(b'not a zip archive at all')
    # Once reported as NumPy's "pickled data ... allow_pickle=False".
    with pytest.raises(DataError, match=r'^video feature file .*broken\.npz '
                       r'is not a valid \.npz archive \(unrecognised '
                       r'content\)$') as info:
        load_feature_array(broken, 'features', None, 'video feature')
    assert isinstance(info.value, OSError)
    obj = factory.npy('obj.npy', np.array([{'a': 1}], dtype=object))
    with pytest.raises(DataError, match=r'obj\.npy is not a valid \.npy '
                       r'file \(holds pickled objects\)'):
        load_feature_array(obj, None, None, 'video feature')
    nan = factory.npz('nan.npz', features=np.float32([[1, 2], [np.nan, 0],
                                                      [np.inf, 1]]))
    with pytest.raises(DataError, match=r'nan\.npz has NaN/inf values in '
                       r'rows \[1, 2\]'):
        load_feature_array(nan, 'features', None, 'video feature')
    # Rows cut by max_len are not checked.
    assert load_feature_array(nan, 'features', 1, 'v').shape == (1, 2)
    empty = factory.npz('empty.npz', features=np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r'empty\.npz is empty'):
        load_feature_array(empty, 'features', None, 'video feature')
    cube = factory.npz('cube.npz', features=np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r'expected a \(length, dim\) array'):
        load_feature_array(cube, 'features', None, 'video feature')
    text = factory.npz('str.npz', features=np.array(['a', 'b']))
    with pytest.raises(ValueError, match='expected a numeric array'):
        load_feature_array(text, 'features', None, 'video feature')


def test_check_template():
    check_template('{vid}.npz', 'features')
    check_template('{vid}_rgb.npy', None)
    with pytest.raises(ValueError, match='give the key'):
        check_template('{vid}.npz', None)
    with pytest.raises(ValueError, match='key must be None'):
        check_template('{vid}.npy', 'features')
    with pytest.raises(ValueError, match='must end with one of'):
        check_template('{vid}.pt', None)


def test_concat_streams():
    a, b = np.ones((5, 2)), np.zeros((4, 3))
    out = concat_streams([a, b], ['a', 'b'], 1, 'video feature')
    assert out.shape == (4, 5)
    np.testing.assert_array_equal(out[:, :2], 1)
    assert concat_streams([a], ['a'], 0, 'v') is a
    with pytest.raises(ValueError, match='video feature streams differ in '
                       'length by more than 0: a has 5 rows, b has 4'):
        concat_streams([a, b], ['a', 'b'], 0, 'video feature')
    c = np.zeros((1, 1))
    assert concat_streams([a, c], ['a', 'c'], None, 'v').shape == (1, 3)


def test_load_feature_array_corrupt_files_one_line(factory):
    """Truncated / mislabelled files: a DataError naming the file."""
    good = factory.npz('g.npz', features=np.ones((50, 8)))
    with open(good, 'rb') as f:
        data = f.read()
    cut = factory.path('cut.npz')
    with open(cut, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(DataError, match=r'cannot read video feature file '
                       r'.*cut\.npz: not a valid \.npz archive, truncated '
                       r'or corrupt') as info:
        load_feature_array(cut, 'features', None, 'video feature')
    assert '\n' not in str(info.value)
    npy_named_npz = factory.path('arr.npz')
    np.save(factory.path('arr.npy'), np.ones((2, 2)))
    os.rename(factory.path('arr.npy'), npy_named_npz)
    with pytest.raises(DataError, match=r'arr\.npz is a \.npy file, not '
                       r'an \.npz archive'):
        load_feature_array(npy_named_npz, 'features', None, 'v')
    npz_named_npy = factory.path('z.npy')
    os.rename(good, npz_named_npy)
    with pytest.raises(DataError, match=r'z\.npy is an \.npz archive, not '
                       r'a \.npy file'):
        load_feature_array(npz_named_npy, None, None, 'v')
    empty = factory.path('zero.npz')
    open(empty, 'wb').close()
    with pytest.raises(DataError, match=r'zero\.npz'):
        load_feature_array(empty, 'features', None, 'v')


def test_width_record_names_both_files():
    widths = WidthRecord()
    widths.check('sf/{vid}.npz', 'sf/a.npz', 8, 'video feature')
    widths.check('sf/{vid}.npz', 'sf/b.npz', 8, 'video feature')
    widths.check('clip/{vid}.npz', 'clip/a.npz', 4, 'video feature')
    with pytest.raises(DataError, match=r'^video feature file sf/c\.npz has '
                       r'width 7, but sf/a\.npz \(loaded earlier from the '
                       r'same stream sf/\{vid\}\.npz\) has width 8'):
        widths.check('sf/{vid}.npz', 'sf/c.npz', 7, 'video feature')
