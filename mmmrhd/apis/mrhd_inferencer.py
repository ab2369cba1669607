# Copyright (c) mmmrhd contributors. All rights reserved.
"""From a video (or its features) and sentences to moments and highlights."""
import copy
import functools
import os
import os.path as osp
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Union)

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.infer import BaseInferencer
from mmengine.runner.checkpoint import load_checkpoint

from mmmrhd.datasets.transforms import LoadTextFeatures, LoadVideoFeatures
from mmmrhd.datasets.transforms.feature_io import load_feature_array
from mmmrhd.datasets.transforms.video_decoding import probe_video
from mmmrhd.evaluation.functional.submission import (dump_jsonl,
                                                     to_submission_record)
from mmmrhd.models.extractors.stream_spec import check_stream_layout
from mmmrhd.registry import (FUNCTIONS, INFERENCERS, MODELS, TRANSFORMS,
                             build_part)
from mmmrhd.utils.errors import CheckpointError, ConfigError
from .feature_inputs import (LRUCache, VideoInput, file_key, is_feature_file,
                             parse_queries, read_stream_features,
                             text_model_input, video_model_input)
from .sliding_window import merge_window_predictions, window_starts

__all__ = ['MRHDInferencer', 'VideoInput']

#: Model video streams computed by the pipeline, not by an extractor
#: (``AppendTEF``); as :func:`check_stream_layout`'s default.
NOT_EXTRACTED = ('tef', )


@INFERENCERS.register_module()
class MRHDInferencer(BaseInferencer):
    """Moment retrieval + highlight detection on a video of any length.

    Usage::

        inferencer = MRHDInferencer('configs/taskweave/taskweave_qvh.py',
                                    'taskweave_qvh.pth', extractor=extractor)
        out = inferencer('my_video.mp4', ['a dog catches a frisbee'])
        out['predictions'][0]['pred_relevant_windows']  # [[st, ed, score]]

    Each prediction has the official submission schema (``qid``, ``query``,
    ``vid``, ``pred_relevant_windows`` = ``[[start_s, end_s, score], ...]``
    sorted by score, ``pred_saliency_scores`` = one score per clip).

    * **Model input**: the config's test pipeline does it. The raw streams
      go through its ``LoadVideoFeatures.merge_stream`` /
      ``merge_streams`` (L2 normalisation, cut to the shortest), the query
      tokens through ``LoadTextFeatures.merge_streams``, then every other
      transform of the pipeline (``AppendTEF``, ``PackMRHDInputs``) and the
      config's collate function run as in the test loop: features from an
      extractor and the same features read by the dataset from ``.npz``
      files give identical tensors.
    * **Any length**: the video is cut into windows of ``window_size``
      clips (default: the pipeline's ``LoadVideoFeatures.max_len``, the
      model's ``max_v_l``), ``stride`` apart, the last one end-aligned;
      see :mod:`mmmrhd.apis.sliding_window` for the merge. A video of at
      most ``window_size`` clips is one window, the single-pass result.
    * **Caching**: features are cached per video file (path, size, mtime)
      and text features per query string, so many queries (or calls) on one
      video cost one video extraction.

    Args:
        model (str | dict | Config): Config file or config.
        weights (str): Checkpoint. Required: a randomly initialised detector
            gives meaningless moments, so unlike MMEngine's base class this
            refuses to run without one.
        extractor (dict | object, optional): Feature extractor (a MODELS
            config such as ``dict(type='VideoFeatureExtractor', ...)`` or a
            built object with ``streams``, ``extract_video(path)`` and
            ``extract_text(queries)``). Needed for video files and query
            strings; precomputed features work without it.
        device (str, optional): Defaults to CUDA when available, else CPU.
        window_size (int, optional): Clips per window. Defaults to the test
            pipeline's ``LoadVideoFeatures.max_len``.
        stride (int, optional): Clips between windows. Defaults to half a
            window.
        nms_thr (float, optional): IoU threshold of the temporal NMS that
            merges windows (default 0.5, CONE's); None = no NMS.
        max_windows (int, optional): Moments kept per query after merging
            windows. None = as many as one window gives.
        batch_size (int): Windows per forward pass. Defaults to 8.
        cache_size (int): Videos (and 64x as many queries) kept in the
            cache. Defaults to 8.
        show_progress (bool): Unused (kept for the base-class contract).
    """

    preprocess_kwargs: set = {'duration', 'vid'}
    forward_kwargs: set = set()
    visualize_kwargs: set = {'out_dir', 'notice', 'embed_video', 'return_vis'}
    postprocess_kwargs: set = {'pred_out_file', 'print_result'}

    def __init__(self,
                 model: Union[str, dict, Config, ConfigDict],
                 weights: Optional[str],
                 extractor: Any = None,
                 device: Optional[str] = None,
                 window_size: Optional[int] = None,
                 stride: Optional[int] = None,
                 nms_thr: Optional[float] = 0.5,
                 max_windows: Optional[int] = None,
                 batch_size: int = 8,
                 cache_size: int = 8,
                 show_progress: bool = False) -> None:
        if weights is None:
            raise CheckpointError(
                'MRHDInferencer needs trained weights (weights=None): a '
                'randomly initialised detector gives meaningless moments. '
                'For a pipeline check, save a random model to a checkpoint '
                'explicitly (see demo/video_demo.py)')
        if not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint not found: {weights}')
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.extractor = build_part(MODELS, extractor)
        self.batch_size = batch_size
        self._video_cache = LRUCache(cache_size)
        self._text_cache = LRUCache(64 * cache_size)
        super().__init__(model=model, weights=weights, device=device,
                         scope='mmmrhd', show_progress=show_progress)
        self.clip_len = float(self._dataset_cfg().get('clip_len', 2.0))
        self.window_size = (window_size if window_size is not None else
                            self.video_loader.max_len)
        if self.window_size is not None:  # validate (a 1-clip video would
            # not look at the values)
            window_starts(self.window_size + 1, self.window_size, stride)
        self.stride = stride
        self.nms_thr = nms_thr
        self.max_windows = max_windows
        self.stream_names = self._check_streams()
        if isinstance(self.extractor, torch.nn.Module):
            device = next(self.model.parameters(), torch.empty(0)).device
            self.extractor.to(device).eval()

    # ------------------------------------------------------------ set-up
    def _dataset_cfg(self, cfg: Optional[ConfigDict] = None) -> ConfigDict:
        cfg = self.cfg if cfg is None else cfg
        try:
            return cfg.test_dataloader.dataset
        except AttributeError:
            raise ConfigError('the config has no test_dataloader.dataset: '
                              'the inferencer takes its pipeline and '
                              'clip_len from there') from None

    def _init_model(self, cfg: ConfigDict, weights: str,
                    device: str = 'cpu') -> torch.nn.Module:
        model = build_part(MODELS, cfg.model)
        try:
            load_checkpoint(model, weights, map_location='cpu', strict=True,
                            logger='silent')
        except (RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(f'checkpoint {weights} does not fit the '
                                  f'model of the config: {exc}') from None
        model.cfg = cfg
        return model.to(device).eval()

    def _init_pipeline(self, cfg: ConfigDict) -> Any:
        """Split the test pipeline into its two loaders and the rest."""
        pipeline = self._dataset_cfg(cfg).get('pipeline')
        if not pipeline:
            raise ConfigError('test_dataloader.dataset.pipeline is empty')
        transforms = [build_part(TRANSFORMS, t) for t in pipeline]
        loaders = {LoadVideoFeatures: None, LoadTextFeatures: None}
        rest = []
        for t in transforms:
            kind = next((k for k in loaders if isinstance(t, k)), None)
            if kind is None:
                rest.append(t)
            elif loaders[kind] is not None:
                raise ConfigError(f'the test pipeline has two {kind.__name__}')
            else:
                loaders[kind] = t
        for kind, found in loaders.items():
            if found is None:
                raise ConfigError('the test pipeline has no '
                                  f'{kind.__name__}; the inferencer uses its '
                                  'normalisation settings')
        # As MRHDDataset: loaders without their own backend_args read
        # feature files with the dataset's.
        backend_args = self._dataset_cfg(cfg).get('backend_args', None)
        for loader in loaders.values():
            if loader.backend_args is None and backend_args is not None:
                loader.backend_args = copy.deepcopy(backend_args)
        self.video_loader: LoadVideoFeatures = loaders[LoadVideoFeatures]
        self.text_loader: LoadTextFeatures = loaders[LoadTextFeatures]

        def pack(results: dict) -> dict:
            for t in rest:
                results = t(results)
            return results

        return pack

    def _init_collate(self, cfg: ConfigDict) -> Callable:
        """The test dataloader's ``collate_fn`` (default ``mrhd_collate``)."""
        collate = dict(cfg.get('test_dataloader', {}).get(
            'collate_fn', dict(type='mrhd_collate')))
        name = collate.pop('type')
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise ConfigError(f'collate_fn {name!r} is not registered')
        return functools.partial(fn, **collate) if collate else fn

    def _init_visualizer(self, cfg: ConfigDict) -> Any:
        return None  # built on first use (see visualize)

    def _check_streams(self) -> List[str]:
        """The model's raw video streams; checks the extractor's layout.

        The layout is the model's ``video_proj`` streams without the TEF
        columns (:func:`~mmmrhd.models.extractors.check_stream_layout`).
        """
        proj = getattr(self.model, 'video_proj', None)
        layout = ([dict(name=n, dim=d) for n, d in zip(proj.names, proj.dims)]
                  if hasattr(proj, 'names') and hasattr(proj, 'dims') else
                  None)
        if self.extractor is None:
            if layout is None:
                raise ConfigError('the model declares no video streams '
                                  '(video_proj.names); pass an extractor')
            return [
                s['name'] for s in layout if s['name'] not in NOT_EXTRACTED
            ]
        if layout is not None:
            check_stream_layout(self.extractor.streams, layout)
        return [spec.name for spec in self.extractor.streams]

    @staticmethod
    def _no_grad(fn: Callable, *args) -> Any:
        with torch.no_grad():
            return fn(*args)

    def clear_cache(self) -> None:
        """Forget every cached video and query feature."""
        self._video_cache.clear()
        self._text_cache.clear()

    # ------------------------------------------------------------ inputs
    def load_video(self,
                   video: Any,
                   duration: Optional[float] = None,
                   vid: Optional[str] = None) -> VideoInput:
        """Raw features of a video (cached) and its model input before TEF.

        Args:
            video: A video file (needs the extractor), a feature file or a
                dict/array of raw features (see
                :func:`~mmmrhd.apis.feature_inputs.read_stream_features`).
            duration (float, optional): Seconds. Defaults to the container's
                duration for video files, else ``L * clip_len``.
            vid (str, optional): Video id. Defaults to the file name without
                extension, else ``'video'``.

        Returns:
            VideoInput: The video.
        """
        path = os.fspath(video) if isinstance(video,
                                              (str, os.PathLike)) else None
        if path is not None and not is_feature_file(path):
            if self.extractor is None:
                raise ValueError(f'{path} is a video file: pass '
                                 'extractor=... to the inferencer, or give '
                                 'precomputed features')
            if not osp.isfile(path):
                raise FileNotFoundError(f'video file not found: {path}')
            raw = self._video_cache.get_or_compute(
                ('video', ) + file_key(path),
                lambda: self._no_grad(self.extractor.extract_video, path))
            if duration is None:
                duration = probe_video(path).duration
        else:
            backend_args = self.video_loader.backend_args
            key = (file_key(path, backend_args)
                   if path is not None else None)
            raw = self._video_cache.get_or_compute(
                key and ('features', ) + key, lambda: read_stream_features(
                    video, self.stream_names, self.video_loader.key,
                    backend_args))
        return self._to_video_input(raw, path, duration, vid)

    def _to_video_input(self, raw: Dict[str, np.ndarray], path: Optional[str],
                        duration: Optional[float],
                        vid: Optional[str]) -> VideoInput:
        feat = video_model_input(raw, self.stream_names, self.video_loader,
                                 path)
        if duration is None:
            duration = feat.shape[0] * self.clip_len
        if not duration > 0:
            raise ValueError(f'video duration must be > 0, got {duration}')
        if vid is None:
            vid = (osp.splitext(osp.basename(path))[0]
                   if path is not None else 'video')
        return VideoInput(vid, path, feat, float(duration), raw)

    def load_text(self, query: Any) -> np.ndarray:
        """Model-input token features of one query (cached per string).

        Args:
            query (str | np.ndarray | dict): A sentence (needs the
                extractor), a token array ``(T, D)``, an ``.npz``/``.npy``
                path, or a dict with ``last_hidden_state`` (the config's
                ``LoadTextFeatures.key``).

        Returns:
            np.ndarray: float32 ``(T, D)``.
        """
        loader = self.text_loader
        if isinstance(query, str) and is_feature_file(query):
            key = loader.key if query.endswith('.npz') else None
            feat = load_feature_array(query, key, loader.max_len,
                                      'text feature', loader.backend_args)
            return loader.merge_streams([feat], [query])
        if isinstance(query, str):
            if self.extractor is None:
                raise ValueError(f'query {query!r} is text: pass '
                                 'extractor=... to the inferencer, or give '
                                 'text features')
            tokens = self._text_cache.get_or_compute(
                ('text', query),
                lambda: self._no_grad(self.extractor.extract_text,
                                      [query])[0])
            name = f'text feature of query {query!r}'
        else:
            tokens, name = query, 'text feature'
        return text_model_input(tokens, loader, name)

    # --------------------------------------------------------- inference
    def __call__(self, inputs: Any, queries: Any, **kwargs) -> dict:
        """Predict moments and saliency of every query on one video.

        Args:
            inputs: The video (see :meth:`load_video`).
            queries: A query or a list: strings, text features, or dicts
                with ``query`` and optionally ``qid``, ``text_feat`` and
                ground truth (``relevant_windows``, ``relevant_clip_ids``,
                ``saliency_scores``) for the visualisation.
            **kwargs: ``duration``, ``vid`` (:meth:`load_video`);
                ``out_dir``, ``notice``, ``embed_video``, ``return_vis``
                (:meth:`visualize`); ``pred_out_file``, ``print_result``
                (:meth:`postprocess`).

        Returns:
            dict: ``predictions`` (one submission record per query) and
            ``visualization`` (RGB plots, or None).
        """
        pre_kw, _, vis_kw, post_kw = self._dispatch_kwargs(**kwargs)
        video = self.load_video(inputs, **pre_kw)
        preds = []
        for item in parse_queries(queries):
            text = self.load_text(item.get('text_feat', item['query']))
            starts = window_starts(video.num_clips, self.window_size,
                                   self.stride)
            window_preds = []
            for batch, batch_starts in self.preprocess(
                    video, item, text, starts):
                window_preds.extend(zip(batch_starts, self.forward(batch)))
            merged = merge_window_predictions(
                window_preds, video.num_clips, self.clip_len, video.duration,
                self.nms_thr, self.max_windows)
            merged.update(vid=video.vid, duration=video.duration)
            preds.append(merged)
        vis = self.visualize(video, preds, **vis_kw)
        return self.postprocess(preds, vis, **post_kw)

    def preprocess(self, video: VideoInput, item: dict, text: np.ndarray,
                   starts: Sequence[int]) -> Iterator[tuple]:
        """Collated batches of windows of one query.

        Window ``s`` holds clips ``[s, s + W)``; its duration is ``W *
        clip_len`` except for the last window, which ends with the video.

        Yields:
            tuple: ``(batch, starts)`` with ``batch`` the collated inputs of
            up to ``batch_size`` windows.
        """
        samples = []
        for start in starts:
            end = (video.num_clips if self.window_size is None else min(
                start + self.window_size, video.num_clips))
            duration = (video.duration - start * self.clip_len
                        if end == video.num_clips else
                        (end - start) * self.clip_len)
            results = dict(
                qid=item['qid'],
                query=item['query'],
                vid=video.vid,
                duration=duration,
                clip_len=self.clip_len,
                ann={k: v for k, v in item.items() if k != 'text_feat'},
                video_feat=video.feat[start:end].copy(),
                num_clips=end - start,
                text_feat=text.copy())
            samples.append(self.pipeline(results))
        for i in range(0, len(samples), self.batch_size):
            yield (self.collate_fn(samples[i:i + self.batch_size]),
                   list(starts[i:i + self.batch_size]))

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> List[dict]:
        """Post-processed predictions (window time) of one batch."""
        return self.model.test_step(inputs)

    def visualize(self,
                  video: VideoInput,
                  preds: List[dict],
                  out_dir: Optional[str] = None,
                  notice: Optional[str] = None,
                  embed_video: bool = False,
                  return_vis: bool = False) -> Optional[List[np.ndarray]]:
        """Plots per query; with ``out_dir`` also PNGs and an HTML page.

        Writes ``<out_dir>/<vid>_<qid>.png`` per query and
        ``<out_dir>/<vid>.html`` (the video, a seek button per moment, the
        plots). ``notice`` is printed on the plots and the page (e.g. "pipeline
        check, not meaningful predictions").

        Returns:
            list[np.ndarray] | None: RGB plots, when ``out_dir`` or
            ``return_vis`` is set.
        """
        if out_dir is None and not return_vis:
            return None
        from mmmrhd.visualization import draw_predictions
        return draw_predictions(preds, self.clip_len, out_dir=out_dir,
                                video_path=video.path, vid=video.vid,
                                notice=notice, embed_video=embed_video)

    def postprocess(self,
                    preds: List[dict],
                    visualization: Optional[List[np.ndarray]],
                    return_datasample: bool = False,
                    pred_out_file: Optional[str] = None,
                    print_result: bool = False) -> dict:
        """Submission records (and an optional jsonl dump)."""
        records = [to_submission_record(copy.copy(p)) for p in preds]
        if pred_out_file is not None:
            dump_jsonl(records, pred_out_file)
        if print_result:
            for record in records:
                print(record)
        return dict(predictions=records, visualization=visualization)
