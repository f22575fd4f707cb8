#!/usr/bin/python3
"""Writes conv_golden.json: a small conv net's forward and backward in float64 with PyTorch 1.13.

out = cat(flatten(c2(max_pool2d(relu(c1(x)), 2))), flatten(avg_pool2d(tanh(c1(x)), 2, stride=1))) with
c1 = Conv2d(2,3,3,stride=1,padding=1), c2 = Conv2d(3,4,2,stride=2), x [2,2,7,6] (odd height).
Loss = (out * w).sum() with a fixed weighting w; grads are d loss / d input. Tensors as
{"shape","data"} like the other golden files. Run: /usr/bin/python3 gen_conv_golden.py
"""
import json
import torch

torch.manual_seed(7)
dt = torch.float64
x = torch.randn(2, 2, 7, 6, dtype=dt, requires_grad=True)
c1 = torch.nn.Conv2d(2, 3, 3, stride=1, padding=1).double()
c2 = torch.nn.Conv2d(3, 4, 2, stride=2).double()
h = torch.relu(c1(x))
h = torch.nn.functional.max_pool2d(h, 2)             # [2,3,3,3]
h = c2(h)                                            # [2,4,1,1]
h = torch.nn.functional.avg_pool2d(torch.tanh(c1(x)), 2, 1)  # second branch exercises avg pool with stride 1
out = torch.cat([c2(torch.nn.functional.max_pool2d(torch.relu(c1(x)), 2)).flatten(1), h.flatten(1)], 1)
w = torch.linspace(-1, 1, out.numel(), dtype=dt).reshape(out.shape)
loss = (out * w).sum()
loss.backward()


def t(v):
    return {"shape": list(v.shape), "data": [float(a) for a in v.detach().flatten().tolist()]}


doc = {
    "inputs": {"x": t(x), "c1.weight": t(c1.weight), "c1.bias": t(c1.bias), "c2.weight": t(c2.weight), "c2.bias": t(c2.bias), "w": t(w)},
    "output": t(out),
    "loss": float(loss),
    "grads": {"x": t(x.grad), "c1.weight": t(c1.weight.grad), "c1.bias": t(c1.bias.grad), "c2.weight": t(c2.weight.grad), "c2.bias": t(c2.bias.grad)},
}
with open("conv_golden.json", "w") as f:
    json.dump(doc, f)
print("conv_golden.json written; output", list(out.shape))
