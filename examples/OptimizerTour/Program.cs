// A tour of Tiny's optimizers: each one walks down the Rosenbrock valley from (-1.2, 1), side by side.
// f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 has its minimum 0 at (1, 1) at the end of a long curved valley.
using Tiny;
using Tiny.Optim;

int steps = args.Length > 0 ? int.Parse(args[0]) : 3000;

// One parameter tensor p = (x, y) per optimizer, and the optimizer over it (settings that work here).
var runs = new (string Name, Func<Tensor, Optimizer> Make)[]
{
    ("SGD momentum 0.9", p => new Sgd([p], lr: 1e-3, momentum: 0.9)),
    ("Adam", p => new Adam([p], lr: 2e-2)),
    ("AdamW wd 1e-2", p => new AdamW([p], lr: 2e-2)),
    ("AdaBound", p => new AdaBound([p], lr: 1e-2, finalLr: 1.5e-3)),
    ("AlphaGrad a=1", p => new AlphaGrad([p], lr: 2e-3, alpha: 1, momentum: 0.9)),
    ("AlphaGrad a=4", p => new AlphaGrad([p], lr: 2e-3, alpha: 4, momentum: 0.9)),
    ("AlphaGrad a=1 no momentum", p => new AlphaGrad([p], lr: 1e-3, alpha: 1)),
};

var ps = runs.Select(_ => { var p = Tensor.FromArray(new[] { -1.2, 1.0 }, 2); p.RequiresGrad = true; return p; }).ToArray();
var opts = runs.Select((r, i) => r.Make(ps[i])).ToArray();

Console.WriteLine($"{"step",6} " + string.Join(" ", runs.Select(r => $"{r.Name,28}")));
for (int step = 0; step <= steps; step++)
{
    var cells = new List<string>();
    for (int i = 0; i < runs.Length; i++)
    {
        // The PyTorch loop: zero the grads, forward, backward, step.
        opts[i].ZeroGrad();
        var loss = TestFunctions.Evaluate("rosenbrock", ps[i]);
        cells.Add($"{loss.Item(),9:G3} ({ps[i].At(0),6:F3},{ps[i].At(1),6:F3})");
        loss.Backward();
        opts[i].Step();
    }
    if (step % (steps / 15) == 0 || step == steps)
        Console.WriteLine($"{step,6} " + string.Join(" ", cells.Select(c => $"{c,28}")));
}
Console.WriteLine("\nAlphaGrad keeps no state without momentum and one buffer with it; Adam keeps two.");
Console.WriteLine(string.Join(", ", runs.Select((r, i) => $"{r.Name}: {opts[i].StateBytes} B")));
