# Copyright (c) mmmrhd contributors. All rights reserved.
"""What ``tools/misc/extract_features.py`` does, as testable functions.

Layout written (the official QVHighlights / Charades-STA one)::

    OUT/<stream>_features/<vid>.npz      features: float16 (L, D)
    OUT/clip_text_features/qid<qid>.npz  last_hidden_state (T, 512),
                                         pooler_output (512,)
    OUT/extraction_meta.json             recipe, streams, versions, counts,
                                         failed videos

Every rank takes every ``world_size``-th video (and query) and writes its
own files (nothing is gathered but the small failure lists); each file is
written to a temporary name and renamed, so an interrupted run leaves no
half-written ``.npz`` and ``--skip-existing`` resumes it.
"""
import datetime
import json
import os
import os.path as osp
import platform
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmmrhd.datasets.annotation import load_jsonl_records
from .errors import DataError

__all__ = [
    'VIDEO_EXTENSIONS', 'TEXT_DIR', 'collect_inputs', 'stream_file',
    'text_file', 'save_npz_atomic', 'extract_videos', 'extract_queries',
    'environment_versions', 'write_meta'
]

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm', '.avi', '.mov', '.m4v')
TEXT_DIR = 'clip_text_features'


def _find_video(video_root: str, vid: str,
                extensions: Sequence[str]) -> Optional[str]:
    for ext in ('', *extensions):
        path = osp.join(video_root, vid + ext)
        if osp.isfile(path):
            return path
    return None


def collect_inputs(video_root: str,
                   video_list: Optional[str] = None,
                   ann_file: Optional[str] = None,
                   extensions: Sequence[str] = VIDEO_EXTENSIONS
                   ) -> Tuple[List[Tuple[str, Optional[str]]],
                              List[Tuple[str, str]]]:
    """Videos (and queries) to extract.

    Args:
        video_root (str): Directory of the videos.
        video_list (str, optional): Text file, one video per line: a file
            name relative to ``video_root`` (or an absolute path), or a
            video id found as ``<vid><ext>``. The id is the file name
            without extension.
        ann_file (str, optional): jsonl annotation (``vid``, ``qid``,
            ``query`` per line, QVHighlights / Charades-STA format); videos
            are ``<video_root>/<vid><ext>``.
        extensions (Sequence[str]): Extensions tried for a bare id.

    Returns:
        tuple: ``[(vid, path or None if not found)]`` (unique, in input
        order) and ``[(qid, query)]`` (from ``ann_file``, else empty).
    """
    if (video_list is None) == (ann_file is None):
        raise DataError('give exactly one of --video-list and --ann-file')
    videos: Dict[str, Optional[str]] = {}
    queries: Dict[str, str] = {}
    if video_list is not None:
        if not osp.isfile(video_list):
            raise DataError(f'video list not found: {video_list}')
        with open(video_list, encoding='utf-8') as f:
            lines = [ln.strip() for ln in f]
        for entry in filter(None, lines):
            path = entry if osp.isabs(entry) else osp.join(video_root, entry)
            if osp.isfile(path) or osp.splitext(entry)[1].lower() in (
                    extensions):
                vid = osp.splitext(osp.basename(entry))[0]
                videos.setdefault(vid, path if osp.isfile(path) else None)
            else:
                videos.setdefault(
                    osp.basename(entry),
                    _find_video(video_root, entry, extensions))
    else:
        try:
            records = load_jsonl_records(ann_file)
        except (FileNotFoundError, TypeError, ValueError) as exc:
            raise DataError(str(exc)) from None
        for lineno, rec in records:
            for key in ('vid', 'qid', 'query'):
                if key not in rec:
                    raise DataError(f'{ann_file}:{lineno}: missing field '
                                    f'{key!r}')
            vid = str(rec['vid'])
            if vid not in videos:
                videos[vid] = _find_video(video_root, vid, extensions)
            queries[str(rec['qid'])] = rec['query']
    if not videos:
        raise DataError(f'no video listed in {video_list or ann_file}')
    return list(videos.items()), list(queries.items())


def stream_file(out_dir: str, stream: str, vid: str) -> str:
    """``<out_dir>/<stream>_features/<vid>.npz``."""
    return osp.join(out_dir, f'{stream}_features', f'{vid}.npz')


def text_file(out_dir: str, qid: str) -> str:
    """``<out_dir>/clip_text_features/qid<qid>.npz``."""
    return osp.join(out_dir, TEXT_DIR, f'qid{qid}.npz')


def save_npz_atomic(path: str, dtype: str, **arrays: np.ndarray) -> None:
    """``np.savez`` to a temporary name in the same directory, then
    rename (atomic on POSIX)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}.npz'
    np.savez(tmp, **{k: np.asarray(v).astype(dtype)
                     for k, v in arrays.items()})
    os.replace(tmp, path)


def extract_videos(extractor, videos: Sequence[Tuple[str, Optional[str]]],
                   out_dir: str, skip_existing: bool, logger,
                   rank: int = 0, world_size: int = 1) -> Dict:
    """Extract this rank's share of ``videos``; never stops on a bad one.

    Returns:
        dict: ``done``/``skipped`` counts and ``failed``: ``[(vid, path,
        reason)]`` (missing, empty, undecodable, audio-only, too short).
    """
    from mmmrhd.datasets.transforms.video_decoding import VideoDecodeError
    names = [s.name for s in extractor.streams]
    mine = list(videos)[rank::world_size]
    stats = dict(done=0, skipped=0, failed=[])
    start = time.time()
    for i, (vid, path) in enumerate(mine, start=1):
        outs = [stream_file(out_dir, n, vid) for n in names]
        if path is None:
            stats['failed'].append((vid, None, 'video file not found'))
            continue
        if skip_existing and all(osp.isfile(p) for p in outs):
            stats['skipped'] += 1
            continue
        try:
            feats = extractor.extract_video(path)
        except VideoDecodeError as exc:
            stats['failed'].append((vid, path, str(exc)))
            logger.warning(f'[rank {rank}] skipped {vid}: {exc}')
            continue
        for name, out in zip(names, outs):
            save_npz_atomic(out, extractor.storage_dtype,
                            features=feats[name])
        stats['done'] += 1
        elapsed = time.time() - start
        rows = ', '.join(f'{n} {len(feats[n])}' for n in names)
        logger.info(f'[rank {rank}] video {i}/{len(mine)} {vid} ({rows} '
                    f'rows) {elapsed / i:.1f} s/video, eta '
                    f'{elapsed / i * (len(mine) - i):.0f} s')
    return stats


def extract_queries(extractor, queries: Sequence[Tuple[str, str]],
                    out_dir: str, skip_existing: bool, logger,
                    rank: int = 0, world_size: int = 1,
                    batch_size: int = 64) -> Dict:
    """Write ``clip_text_features/qid<qid>.npz`` for this rank's share."""
    mine = [(q, t) for q, t in list(queries)[rank::world_size]
            if not (skip_existing and osp.isfile(text_file(out_dir, q)))]
    skipped = len(list(queries)[rank::world_size]) - len(mine)
    for start in range(0, len(mine), batch_size):
        batch = mine[start:start + batch_size]
        feats = extractor.extract_text([t for _, t in batch])
        for (qid, _), item in zip(batch, feats):
            save_npz_atomic(text_file(out_dir, qid),
                            extractor.storage_dtype, **item)
        logger.info(f'[rank {rank}] queries {start + len(batch)}/'
                    f'{len(mine)}')
    return dict(done=len(mine), skipped=skipped)


def environment_versions() -> Dict[str, str]:
    """Versions that decide the features: packages and FFmpeg libraries."""
    import mmengine
    import torch

    import mmmrhd
    versions = dict(
        python=sys.version.split()[0], platform=platform.platform(),
        mmmrhd=mmmrhd.__version__, mmengine=mmengine.__version__,
        torch=torch.__version__, numpy=np.__version__,
        cuda=str(torch.version.cuda) if torch.cuda.is_available() else
        'none (CPU)')
    try:
        import av
        versions['av'] = av.__version__
        versions['ffmpeg_libraries (PyAV bundled)'] = ', '.join(
            f'{k} {".".join(map(str, v))}'
            for k, v in sorted(av.library_versions.items()))
    except ImportError:
        versions['av'] = 'not installed'
    for name in ('decord', 'cv2', 'open_clip'):
        try:
            module = __import__(name)
            versions[name] = getattr(module, '__version__', 'unknown')
        except Exception:  # noqa: BLE001 - optional, may fail to import
            versions[name] = 'not available'
    return versions


def write_meta(out_dir: str, meta: Dict) -> str:
    """Write ``extraction_meta.json`` (indented, sorted keys)."""
    meta = dict(meta, written=datetime.datetime.now(
        datetime.timezone.utc).isoformat(timespec='seconds'))
    path = osp.join(out_dir, 'extraction_meta.json')
    os.makedirs(out_dir, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2, sort_keys=True, default=str)
        f.write('\n')
    return path
