# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/dist_train.sh: 2-process CPU (gloo) DDP training of the demo."""
import os
import os.path as osp
import re
import socket
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_cpu_training(tmp_path):
    data = tmp_path / 'demo'
    work = tmp_path / 'work'
    env = dict(os.environ)
    # torchrun of the interpreter running the tests
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PORT'] = str(_free_port())
    env['MASTER_ADDR'] = '127.0.0.1'
    options = [
        'train_cfg.max_epochs=2',  # feedback starts at epoch 1 (max // 2)
        'train_cfg.val_interval=2',
        'train_dataloader.batch_size=8',
        'train_dataloader.dataset.indices=32',
        'val_dataloader.dataset.indices=16',
        f'train_dataloader.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}',
        f'test_dataloader.dataset.data_root={data}',
    ]
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'),
         osp.join(REPO, 'configs', 'taskweave', 'taskweave_demo.py'), '2',
         '--work-dir', str(work), '--cfg-options', *options],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log
    assert 'MRHDDistributedDataParallel' in log
    # 32 samples / (2 ranks x batch 8) = 2 iterations per epoch (4 on one
    # process): the data is sharded across the two ranks.
    iters = set(re.findall(r'Epoch\(train\)\s+\[\d+\]\[\d+/(\d+)\]', log))
    assert iters == {'2'}, iters
    # validation gathered all 16 samples from both ranks and scored them
    assert re.search(r'Epoch\(val\) \[2\]\[\d+/\d+\].*MR-full-mAP: [\d.]+',
                     log)
    assert (work / 'epoch_2.pth').is_file()
