// GradCheck: central finite differences in float64, the way torch.autograd.gradcheck checks analytic gradients.
using NUnit.Framework;

namespace Tiny.Tests.Autograd;

internal static class GradCheck
{
    /// <summary>
    /// Checks d(sum(f(inputs) * w))/d(input) against central differences for every input, with a fixed random
    /// weighting w so that gradients summing to zero (softmax) are still checked.
    /// </summary>
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-4)
    {
        foreach (var x in inputs) Assert.That(x.DType, Is.EqualTo(DType.Float64), "gradcheck runs in float64");
        Tensor probe;
        using (Tensor.NoGrad()) probe = f(inputs);
        var w = Tensor.Uniform(probe.Shape.ToArray(), 0.5, 1.5, new Rng(99), DType.Float64);
        Func<double> scalar = () => { using (Tensor.NoGrad()) return f(inputs).Mul(w).Sum().Item(); };

        foreach (var x in inputs) { x.RequiresGrad = true; x.Grad = null; }
        f(inputs).Mul(w).Sum().Backward();

        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            var analytic = x.Grad?.ToDoubleArray() ?? new double[x.Numel];
            var data = x.DataD;
            for (int i = 0; i < x.Numel; i++)
            {
                double orig = data[i];
                data[i] = orig + eps; double fp = scalar();
                data[i] = orig - eps; double fm = scalar();
                data[i] = orig;
                double numeric = (fp - fm) / (2 * eps);
                Assert.That(analytic[i], Is.EqualTo(numeric).Within(atol + rtol * Math.Abs(numeric)),
                    $"input {k} element {i}: analytic {analytic[i]} vs numeric {numeric}");
            }
        }
    }
}
