# Copyright (c) mmmrhd contributors. All rights reserved.
"""Generate the synthetic demo data (QVHighlights layout) from a seed.

    python tools/misc/generate_demo_data.py --out-dir data/demo --seed 0

Data already in ``--out-dir`` with the same seed and sizes is kept (so the
command can be re-run); other data there is an error unless ``--overwrite``.
"""
import argparse
import json
import os.path as osp

from mmmrhd.datasets.demo import DEMO_META_FILE, generate_demo_data
from mmmrhd.datasets.demo_dataset import ensure_demo_data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the mmmrhd demo data (QVHighlights layout)')
    parser.add_argument('--out-dir', default='data/demo')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=600)
    parser.add_argument('--num-val', type=int, default=150)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing --out-dir')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    settings = dict(
        seed=args.seed, num_train=args.num_train, num_val=args.num_val)
    existed = osp.isfile(osp.join(args.out_dir, DEMO_META_FILE))
    try:
        if args.overwrite:
            root = generate_demo_data(args.out_dir, **settings, overwrite=True)
        else:
            root = ensure_demo_data(args.out_dir, **settings)
    except (FileExistsError, ValueError) as e:
        raise SystemExit(f'error: {e} (or pass --overwrite)')
    with open(osp.join(root, DEMO_META_FILE)) as f:
        counts = json.load(f)['counts']
    summary = ', '.join(f'{split}: {c["queries"]} queries on {c["videos"]} '
                        'videos' for split, c in counts.items())
    verb = 'kept existing' if existed and not args.overwrite else 'wrote'
    print(f'{verb} demo data in {root} ({summary})')


if __name__ == '__main__':
    main()
