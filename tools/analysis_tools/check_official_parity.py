# Copyright (c) mmmrhd contributors. All rights reserved.
"""Check an mmmrhd model against an official reference fixture.

Usage::

    python tools/analysis_tools/check_official_parity.py FIXTURE.pth [...]
        [--verbose] [--json OUT.json]

For each fixture (the format of ``shared/fixtures/README.md``: portable-init
weight table, inputs, official outputs, losses, matcher indices, total and
gradients) the model's parity adapter is picked from ``fixture['meta']``
(``mmmrhd.testing.adapters``: TaskWeave, QD-DETR, Moment-DETR, ...), the
official weights are rebuilt from the init table and converted with the
repository converter, our model runs forward, criteria, joint loss and
backward, and the maximum absolute / relative difference of every output,
loss term and gradient is printed per category. The exit code is 0 when
everything is within the fixtures' tolerances, 1 otherwise, 2 on bad input.
Any batch size, padding pattern and seed work: shapes come from the fixture.
"""
import argparse
import json
import math
import os.path as osp
import sys
from collections import OrderedDict
from typing import List, Optional, Sequence

import torch
from terminaltables import AsciiTable

from mmmrhd.testing import load_fixture
from mmmrhd.testing.parity import ParityRow, check_fixture


def _fmt(x: float) -> str:
    return 'nan' if math.isnan(x) else f'{x:.2e}'


def summarize(rows: List[ParityRow]) -> List[list]:
    """Worst row per category, as table rows."""
    table = [['category', 'checked', 'failed', 'max abs', 'max rel',
              'budget used', 'worst']]
    groups = OrderedDict()
    for row in rows:
        groups.setdefault(row.category, []).append(row)
    for category, items in groups.items():
        worst = max(items, key=lambda r: (not r.ok, r.budget))
        failed = sum(not r.ok for r in items)
        table.append([
            category,
            len(items), failed,
            _fmt(max(r.max_abs for r in items)),
            _fmt(max(r.max_rel for r in items)), f'{worst.budget:.3f}',
            worst.name + (f' ({worst.note})' if worst.note else '')
        ])
    return table


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description='Compare mmmrhd with an official reference fixture.')
    parser.add_argument('fixtures', nargs='+', help='fixture .pth files')
    parser.add_argument(
        '--verbose', action='store_true', help='print every comparison')
    parser.add_argument('--json', help='write all rows to this JSON file')
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    all_ok, report = True, {}
    for path in args.fixtures:
        if not osp.isfile(path):
            print(f'check_official_parity: {path}: no such file',
                  file=sys.stderr)
            return 2
        fx = load_fixture(path)
        meta = fx.get('meta', {})
        try:
            rows = check_fixture(fx)
        except NotImplementedError as error:
            print(f'check_official_parity: {path}: {error}', file=sys.stderr)
            return 2
        ok = all(r.ok for r in rows)
        all_ok &= ok
        print(f"\n{osp.basename(path)}: {meta.get('model_variant')} "
              f"epoch_i={meta.get('epoch_i')} "
              f"B={fx['inputs']['src_vid'].shape[0]} -> "
              f"{'PASS' if ok else 'FAIL'}")
        print(AsciiTable(summarize(rows)).table)
        if args.verbose or not ok:
            for r in rows:
                if args.verbose or not r.ok:
                    print(f"  {'ok ' if r.ok else 'BAD'} {r.category:8s} "
                          f'{r.name}: abs {_fmt(r.max_abs)} rel '
                          f'{_fmt(r.max_rel)} budget {r.budget:.3f} {r.note}')
        report[path] = [r.__dict__ for r in rows]
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1, default=str)
    print('\nall within tolerance' if all_ok else '\nOUT OF TOLERANCE')
    return 0 if all_ok else 1


if __name__ == '__main__':
    sys.exit(main())
