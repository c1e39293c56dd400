"""Design screen for the VAE's training bound: VAE (ELBO, k=1) vs IWAE (k codes per row) at equal wall time, dynamic
binarisation, scored on 5,000 images held out of MNIST's *training* set (binarised once, seed 0) with k=1000
importance samples. The test set is left to ``vae_likelihood.py``. The loss is written out here (it chose how
many samples ``AutoEncoder(importance_samples=...)`` is benchmarked with; ``test_generation.py`` checks that the
model's own loss is the same bound).

    python benchmarks/iwae_screen.py K MINUTES [LATENT]      # e.g. 5 8
"""
import math
import sys
import time

import numpy as np
import torch

from aekit import AutoEncoder, datasets
from aekit.models.bottleneck import LOG_2PI, normal_log_density
from aekit.models.importance import importance_log_likelihood
from aekit.training.adam import Adam

k_train = int(sys.argv[1]); minutes = float(sys.argv[2]); latent = int(sys.argv[3]) if len(sys.argv) > 3 else 32
torch.set_num_threads(2)
X, _ = datasets.load("mnist", split="train"); X = X.reshape(len(X), -1).astype(np.float32)
rng = np.random.default_rng(0); idx = rng.permutation(len(X))
val = X[idx[:5000]]; tr = torch.from_numpy(X[idx[5000:]])
valb = torch.from_numpy((np.random.default_rng(0).random(val.shape) < val).astype(np.float32))
ae = AutoEncoder(kind="vae", latent_dim=latent, hidden_dims=(512, 256), encoder="mlp", max_iter=1, random_state=0, verbose=0)
ae.fit((np.random.default_rng(1).random(tr.shape) < tr.numpy()).astype(np.float32)[:2000])
m = ae.model_; m.train(); torch.manual_seed(0)
opt = Adam(m.parameters(), lr=1e-3)
def loss_fn(x):
    code = m.bottleneck(m.encoder(m.input_norm(x)))
    mean, logvar = code.mean, code.logvar
    if k_train == 1:
        params = m.decoder_params(code.z)
        return m.likelihood.batch_nll(params, x) + code.terms["kl"].value
    z = mean + torch.exp(0.5 * logvar) * torch.randn((k_train, *mean.shape))
    params = m.decoder_params(z.flatten(0, 1))
    nll = m.likelihood.nll(params, x.repeat(k_train, 1)).view(k_train, -1)
    logw = -nll - 0.5 * (z.pow(2) + LOG_2PI).sum(-1) - normal_log_density(z, mean, logvar)
    return -(torch.logsumexp(logw, 0) - math.log(k_train)).mean()
t0 = time.perf_counter(); epoch = 0; budget = minutes * 60
while time.perf_counter() - t0 < budget:
    perm = torch.randperm(len(tr))
    for i in range(0, len(tr), 128):
        frac = min(1.0, (time.perf_counter() - t0) / budget)
        for g in opt.param_groups: g["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * frac))
        x = torch.bernoulli(tr[perm[i:i+128]])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = loss_fn(x)
        opt.zero_grad(); loss.backward(); opt.step()
    epoch += 1
m.eval()
vals = []
with torch.random.fork_rng():
    torch.manual_seed(0)
    for j in range(0, len(valb), 20):
        vals.append(importance_log_likelihood(m, valb[j:j+20], 1000))
print(f"k_train={k_train} latent={latent} minutes={minutes} epochs={epoch} val NLL={-float(torch.cat(vals).mean()):.2f}", flush=True)
