"""The learned peer for benchmarks/compression.py: CompressAI's factorized-prior model (Ballé et al. 2018,
``bmshj2018-factorized``), trained on the same images for the same wall-clock seconds as aekit's codec.

It runs in its own environment, because CompressAI needs torchvision and NumPy < 2, which would replace this
project's torch; compression.py starts it with that environment's Python (``--compressai-python``) and passes the
images as .npy files. It writes the decoded test images and each image's compressed size to ``--out`` (.npz).

Protocol: the model's first and last layers take one channel (grey), images are padded with zeros to a multiple of 16 (four stride-2 stages; MNIST's background is 0), the
loss is ``lmbda x 255^2 x MSE + bits per pixel`` over the real pixels (CompressAI's rate-distortion loss), Adam at
5e-4 with a cosine decay over the time budget (CompressAI's examples use 1e-4 over days; a short budget needs a
higher rate) and the auxiliary loss for the entropy bottleneck's quantiles at 1e-3. Sizes are the length of
CompressAI's byte string for each image alone; no header is counted for it (its latent size is fixed by the image
size), which favours the peer by aekit's 3 header bytes.

    PYTHON_WITH_COMPRESSAI benchmarks/compressai_peer.py --train train.npy --test test.npy --lmbda 0.0067 \\
        --seconds 600 --out peer.npz
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from compressai.models import FactorizedPrior
from compressai.models.utils import conv, deconv


def padded(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(n, h, w)`` -> float ``(n, 1, H, W)`` in [0, 1], zero-padded to multiples of 16."""
    x = torch.from_numpy(images).float().div(255).unsqueeze(1)
    h, w = x.shape[-2:]
    return F.pad(x, (0, -w % 16, 0, -h % 16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--lmbda", type=float, required=True, help="CompressAI's lambda (0.0018 ... 0.0932)")
    parser.add_argument("--seconds", type=float, required=True, help="wall-clock training budget")
    parser.add_argument("--channels", default="128,192", help="N,M of the model (CompressAI's for qualities 1-5)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.manual_seed(0)
    train, test = np.load(args.train), np.load(args.test)
    h, w = train.shape[1:]
    x_train, x_test = padded(train), padded(test)
    n, m = (int(v) for v in args.channels.split(","))
    model = FactorizedPrior(n, m)
    model.g_a[0], model.g_s[-1] = conv(1, n), deconv(n, 1)  # grey images: one channel in and out, not RGB's three
    main_params = [p for name, p in model.named_parameters() if not name.endswith(".quantiles")]
    aux_params = [p for name, p in model.named_parameters() if name.endswith(".quantiles")]
    opt, aux_opt = torch.optim.Adam(main_params, lr=5e-4), torch.optim.Adam(aux_params, lr=1e-3)
    start, steps, epochs = time.perf_counter(), 0, 0
    while time.perf_counter() - start < args.seconds:
        order = torch.randperm(len(x_train))
        for i in range(0, len(order) - args.batch_size + 1, args.batch_size):
            progress = (time.perf_counter() - start) / args.seconds
            if progress >= 1:
                break
            for group in opt.param_groups:
                group["lr"] = 5e-4 * 0.5 * (1 + math.cos(math.pi * progress))
            x = x_train[order[i : i + args.batch_size]]
            out = model(x)
            mse = F.mse_loss(out["x_hat"][..., :h, :w], x[..., :h, :w])
            bits = -torch.log2(out["likelihoods"]["y"]).sum() / len(x)
            loss = args.lmbda * 255**2 * mse + bits / (h * w)
            opt.zero_grad()
            aux_opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(main_params, 1.0)
            opt.step()
            model.aux_loss().backward()
            aux_opt.step()
            steps += 1
        epochs += 1
    trained = time.perf_counter() - start
    model.eval()
    model.update(force=True)
    sizes, decoded = [], []
    with torch.no_grad():
        t = time.perf_counter()
        for i in range(len(x_test)):
            enc = model.compress(x_test[i : i + 1])
            sizes.append(len(enc["strings"][0][0]))
            x_hat = model.decompress(enc["strings"], enc["shape"])["x_hat"][0, 0, :h, :w]
            decoded.append(np.clip(np.rint(x_hat.numpy() * 255), 0, 255).astype(np.uint8))
        coding_seconds = time.perf_counter() - t
    np.savez(args.out, sizes=np.array(sizes), decoded=np.stack(decoded), train_seconds=trained, steps=steps,
             epochs=epochs, coding_seconds=coding_seconds,
             weight_bytes=sum(p.numel() * p.element_size() for p in model.state_dict().values()))
    print(f"compressai lmbda {args.lmbda}: {np.mean(sizes):.1f} B, {steps} steps, {trained:.0f} s", flush=True)


if __name__ == "__main__":
    main()
