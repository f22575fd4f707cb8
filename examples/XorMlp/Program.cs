// XorMlp: a 2-8-1 Tanh MLP learns XOR with plain gradient descent, the whole training loop in 15 lines.
using Tiny;
using Tiny.Nn;

var rng = new Rng(0);
var net = Mlp.Create([2, 8, 1], () => new Tanh(), rng);            // Linear(2,8) -> Tanh -> Linear(8,1)
var x = Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 0, 1, 1 }, 4, 2);
var y = Tensor.FromArray(new float[] { 0, 1, 1, 0 }, 4, 1);

for (int step = 0; step <= 2000; step++)
{
    net.ZeroGrad();
    var loss = F.MseLoss(net.Forward(x), y);                          // forward
    loss.Backward();                                                  // reverse-mode autograd
    using (Tensor.NoGrad())
        foreach (var p in net.Parameters()) p.AddInPlace(p.Grad!, -0.2);   // p <- p - lr * grad
    if (step % 400 == 0) Console.WriteLine($"step {step,4}  loss {loss.Item():F6}");
}
using (Tensor.NoGrad()) Console.WriteLine($"predictions: {net.Forward(x)}");
