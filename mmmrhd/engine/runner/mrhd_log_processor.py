# Copyright (c) mmmrhd contributors. All rights reserved.
"""A log processor whose training line shows the loss totals only."""
from typing import List, Sequence, Tuple

from mmengine.runner import LogProcessor

from mmmrhd.registry import LOG_PROCESSORS

__all__ = ['MRHDLogProcessor']

#: Scalars of the runner itself (MMEngine's IterTimerHook, OptimWrapper,
#: LogProcessor): kept in the line where MMEngine puts them.
RUNTIME_KEYS = ('time', 'data_time', 'eta', 'memory', 'grad_norm', 'epoch',
                'iter')


@LOG_PROCESSORS.register_module()
class MRHDLogProcessor(LogProcessor):
    """:class:`~mmengine.runner.LogProcessor` with a readable training line.

    The detectors log ~20 loss terms per iteration (``loss_span``,
    ``loss_giou``, ``loss_label`` and their ``_<i>`` copies per decoder
    layer, ``class_error``, the saliency terms, the joint loss' ``loss_mr`` /
    ``loss_hd`` / log variances ...). The training line shows the totals
    only, in the order of ``line_keys`` (``loss``, then the groups of the
    joint loss), and the number of terms left out; every term is still
    written to the visualizer backends (``vis_data/scalars.json`` of
    ``LocalVisBackend``, TensorBoard, ...), since the returned tag is
    MMEngine's, complete. The learning rate, ``eta``, ``time``,
    ``data_time``, ``memory`` and ``grad_norm`` stay where MMEngine puts
    them; validation and test lines are MMEngine's.

    Example line::

        Epoch(train) [1][19/19]  lr: 1.0000e-03  eta: 0:03:10  time: 0.2451
        data_time: 0.0326  grad_norm: 19.0282  loss: 4.8133  loss_mr: 2.5198
        loss_hd: 1.1072  (+16 terms in the scalars)

    Args:
        line_keys (Sequence[str]): Model log entries shown in the line, in
            this order (absent ones are skipped). Defaults to ``('loss',
            'loss_mr', 'loss_hd')``: the total and the MR / HD groups of
            the joint losses (:class:`UncertaintyJointLoss`,
            :class:`SumLoss`); models with :class:`WeightedSumLoss` show the
            total.
        show_all (bool): Show every entry, as MMEngine's processor does.
            Defaults to False.
        **kwargs: :class:`~mmengine.runner.LogProcessor` arguments
            (``window_size``, ``by_epoch``, ``custom_cfg``, ``num_digits``,
            ``log_with_hierarchy``, ``mean_pattern``).
    """

    def __init__(self,
                 line_keys: Sequence[str] = ('loss', 'loss_mr', 'loss_hd'),
                 show_all: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(line_keys, str):
            line_keys = [line_keys]
        self.line_keys = list(line_keys)
        self.show_all = show_all

    def _format(self, value) -> str:
        # as LogProcessor.get_log_after_iter formats the left keys
        return (f'{value:.{self.num_digits}f}'
                if isinstance(value, float) else str(value))

    def get_log_after_iter(self, runner, batch_idx: int,
                           mode: str) -> Tuple[dict, str]:
        """MMEngine's tag (all scalars) and a training line of totals.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the loop.
            mode (str): ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            tuple[dict, str]: The tag, unchanged (every scalar goes to the
            visualizer), and the log line.
        """
        tag, log_str = super().get_log_after_iter(runner, batch_idx, mode)
        if self.show_all or mode != 'train':
            return tag, log_str
        prefix = f'{mode}/'
        values = {}
        for key, value in tag.items():
            name = key[len(prefix):] if key.startswith(prefix) else key
            if name not in RUNTIME_KEYS and not name.endswith('lr'):
                values[name] = value
        # MMEngine joins the items of the line with two spaces, each item
        # as 'name: value'; drop the model's items, then add the totals.
        items = log_str.split('  ')
        kept: List[str] = [
            item for item in items
            if item.split(': ', 1)[0] not in values
        ]
        while kept and not kept[-1]:
            kept.pop()
        shown = [k for k in self.line_keys if k in values]
        kept += [f'{k}: {self._format(values[k])}' for k in shown]
        hidden = len(values) - len(shown)
        if hidden:
            kept.append(f'(+{hidden} terms in the scalars)')
        return tag, '  '.join(kept)
