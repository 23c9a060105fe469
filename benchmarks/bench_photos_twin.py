"""deepstep against its PyTorch twin on a folder of photos (sign-digits 0-5 at 64x64), same everything.

The twin is :func:`deepstep.interop.torch_module` of the deepstep model: the same layers and the same
initial weights. Both train on the very same batches (the image folder's seeded split and shuffling,
and, with ``--augment``, the same NumPy augmentation of each batch), with Adam and the same learning
rate; their epochs alternate, each timed on its own. Reported: test accuracy, training seconds and
each epoch's mean training loss of each, and the time ratio. Both on one thread
(``torch.set_num_threads(1)``, BLAS limited to one thread). ``--dtype float64`` trains both in
float64, where their losses stay together longer (float32 rounding differences grow over the steps).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_photos_twin.py --data ../shared/data/sign-digits \\
        --model signs_convnet --epochs 40 [--augment standard]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_photos_twin.py --data ../shared/data/sign-digits \\
        --model resnet_small --epochs 20 --batch-size 32 --lr 0.002 [--augment standard]

The twin's BatchNormalization layers train like deepstep's (batch statistics, torch momentum
``1 - m``, the unbiased variance in the running statistics; tested in float64 in
``tests/export/test_interop.py``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main(argv: list[str] | None = None) -> dict:
    import torch

    from deepstep.commands.photos import folder_split, parse_augment
    from deepstep.interop import torch_module
    from deepstep.models import build_zoo_model
    from deepstep.optim import get_optimizer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--classes", default="0,1,2,3,4,5")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--model", default="signs_convnet")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.009)
    p.add_argument("--augment", type=parse_augment, default=[])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    classes = args.classes.split(",")
    size = (args.image_size, args.image_size)
    split = folder_split(args.data, size, classes, "rgb", args.seed, 0.0, args.dtype, args.augment)
    model = build_zoo_model(args.model, (*size, 3), len(classes), dtype=args.dtype, seed=args.seed)
    model.compile(optimizer=get_optimizer("adam", learning_rate=args.lr))
    twin = torch_module(model).train()
    opt = torch.optim.Adam(twin.parameters(), lr=args.lr, eps=1e-7)  # deepstep's Adam epsilon is Keras' 1e-7
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = {"deepstep": 0.0, "torch": 0.0}
    losses: dict[str, list[float]] = {"deepstep": [], "torch": []}  # each epoch's mean batch loss
    for epoch in range(args.epochs):
        batches = list(split.train.batches(args.batch_size, shuffle=True, seed=args.seed, epoch=epoch,
                                           training=True))
        start = time.perf_counter()
        epoch_losses = [model.train_on_batch(xb, yb)["loss"] for xb, yb in batches]
        seconds["deepstep"] += time.perf_counter() - start
        losses["deepstep"].append(round(float(np.mean(epoch_losses)), 6))
        epoch_losses = []
        start = time.perf_counter()
        for xb, yb in batches:
            opt.zero_grad()
            loss = loss_fn(twin(torch.from_numpy(np.ascontiguousarray(xb.transpose(0, 3, 1, 2)))),
                           torch.from_numpy(yb))
            loss.backward()
            opt.step()
            epoch_losses.append(loss.item())
        seconds["torch"] += time.perf_counter() - start
        losses["torch"].append(round(float(np.mean(epoch_losses)), 6))
    x_test, y_test = split.test.to_arrays()
    twin.eval()
    with torch.no_grad():
        logits = twin(torch.from_numpy(np.ascontiguousarray(x_test.transpose(0, 3, 1, 2))))
    torch_pred = logits.argmax(1).numpy()
    result = {
        "model": args.model, "epochs": args.epochs, "augment": args.augment, "dtype": args.dtype,
        "train_images": len(split.train), "test_images": len(y_test),
        "deepstep": {"test_accuracy": float(np.mean(model.predict(x_test) == y_test)),
                     "train_seconds": round(seconds["deepstep"], 1), "epoch_losses": losses["deepstep"]},
        "torch": {"test_accuracy": float(np.mean(torch_pred == y_test)),
                  "train_seconds": round(seconds["torch"], 1), "epoch_losses": losses["torch"]},
        "time_ratio_deepstep_over_torch": round(seconds["deepstep"] / seconds["torch"], 2),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
