// GoldenTests: op values and gradients against PyTorch 1.13 (data/autograd_golden.json, made by data/gen_golden.py).
using System.Text.Json;
using NUnit.Framework;
using Tiny.Nn;

namespace Tiny.Tests.Autograd;

public sealed class GoldenTests
{
    private delegate Tensor Expr(Dictionary<string, Tensor> t, Dictionary<string, int[]> ints);

    // Each case's torch expression (see "expression" in the JSON) written with Tiny's API.
    private static readonly Dictionary<string, Expr> Exprs = new()
    {
        ["softmax_dim1"] = (t, _) => t["x"].Softmax(1),
        ["softmax_dim0"] = (t, _) => t["x"].Softmax(0),
        ["softmax_weighted"] = (t, _) => (t["x"].Softmax(1) * t["w"]).Sum(),
        ["log_softmax_dim1"] = (t, _) => t["x"].LogSoftmax(1),
        ["log_softmax_last_3d"] = (t, _) => t["x"].LogSoftmax(-1),
        ["logsumexp_dim1"] = (t, _) => t["x"].LogSumExp(1),
        ["cross_entropy"] = (t, i) => F.CrossEntropy(t["x"], i["target"]),
        ["cross_entropy_sum"] = (t, i) => F.CrossEntropy(t["x"], i["target"]) * i["target"].Length,
        ["nll_loss"] = (t, i) => F.NllLoss(t["x"], i["target"]),
        ["mse_loss"] = (t, _) => F.MseLoss(t["x"], t["y"]),
        ["smooth_l1_loss"] = (t, _) => F.SmoothL1Loss(t["x"], t["y"], 1.0),
        ["composite_tanh_sigmoid"] = (t, _) => (t["x"].MatMul(t["W"].T).Add(t["b"]).Tanh() * t["x"].Sigmoid()).Mean(),
        ["bmm"] = (t, _) => t["a"].MatMul(t["b"]),
        ["matmul_2d"] = (t, _) => t["a"].MatMul(t["b"]),
        ["broadcast_add"] = (t, _) => t["a"] + t["b"],
        ["broadcast_mul"] = (t, _) => t["a"] * t["b"],
        ["broadcast_sub_div"] = (t, _) => (t["a"] - t["b"]) / t["c"],
        ["max_dim1"] = (t, _) => t["x"].Max(1),
        ["min_dim0"] = (t, _) => t["x"].Min(0),
        ["amax_keepdim_weighted"] = (t, _) => (t["x"].Max(-1, keepDim: true) * t["w"]).Sum(),
        ["gather_dim1"] = (t, i) => t["x"].Gather(1, i["index"], 3, 2),
        ["sum_mean_axes"] = (t, _) => t["x"].Sum(1) * 2 + t["x"].Mean(1),
        ["permute_reshape"] = (t, _) => t["x"].Permute(2, 0, 1).Reshape(4, 6) * t["w"],
        ["unary_exp_log_sqrt"] = (t, _) => t["x"].Exp() + t["y"].Log() + t["y"].Sqrt(),
        ["unary_tanh_sigmoid_relu"] = (t, _) => t["x"].Tanh() * 2 + t["x"].Sigmoid() + t["x"].Relu() * 3,
        ["pow_neg"] = (t, _) => t["x"].Pow(3) - (-t["x"]),
        ["where_maximum"] = (t, _) => Tensor.Where(t["x"].Gt(0), t["x"] * t["y"], t["x"].Maximum(t["y"])),
        ["linear"] = (t, _) => Tensor.Linear(t["x"], t["weight"], t["bias"]),
        ["mlp_4_64_64_2_tanh_mse"] = Mlp,
        ["mlp_4_64_64_2_tanh_mse_f32"] = Mlp,
    };

    private static Tensor Mlp(Dictionary<string, Tensor> t, Dictionary<string, int[]> _)
    {
        var h = Tensor.Linear(t["x"], t["w1"], t["b1"]).Tanh();
        h = Tensor.Linear(h, t["w2"], t["b2"]).Tanh();
        return F.MseLoss(Tensor.Linear(h, t["w3"], t["b3"]), t["y"]);
    }

    public static IEnumerable<string> CaseNames()
    {
        using var doc = TestData.Load("autograd_golden.json");
        return doc.RootElement.EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
    }

    [Test]
    public void EveryGoldenCaseHasAnExpression()
    {
        Assert.That(CaseNames(), Is.EquivalentTo(Exprs.Keys));
    }

    [TestCaseSource(nameof(CaseNames))]
    public void MatchesPyTorch(string name)
    {
        using var doc = TestData.Load("autograd_golden.json");
        var c = doc.RootElement.EnumerateArray().First(e => e.GetProperty("name").GetString() == name);
        var dtype = DTypeExtensions.Parse(c.GetProperty("dtype").GetString()!);
        var grads = c.GetProperty("grads");
        var inputs = new Dictionary<string, Tensor>();
        foreach (var p in c.GetProperty("inputs").EnumerateObject())
        {
            var x = TestData.Tensor(p.Value, dtype);
            x.RequiresGrad = grads.TryGetProperty(p.Name, out _);
            inputs[p.Name] = x;
        }
        var ints = new Dictionary<string, int[]>();
        if (c.TryGetProperty("int_inputs", out var ii))
            foreach (var p in ii.EnumerateObject()) ints[p.Name] = TestData.Ints(p.Value);

        var y = Exprs[name](inputs, ints);
        double rtol = dtype == DType.Float64 ? 1e-12 : 2e-5, atol = dtype == DType.Float64 ? 1e-14 : 1e-6;
        var expected = c.GetProperty("output");
        Assert.That(y.Shape.ToArray(), Is.EqualTo(TestData.Shape(expected)), "output shape");
        AssertClose(y.ToDoubleArray(), TestData.Data(expected), rtol, atol, "output");

        (y.Numel == 1 ? y.Reshape() : y.Sum()).Backward();
        foreach (var g in grads.EnumerateObject())
        {
            var grad = inputs[g.Name].Grad;
            Assert.That(grad, Is.Not.Null, $"grad of {g.Name}");
            AssertClose(grad!.ToDoubleArray(), TestData.Data(g.Value), rtol, atol, $"grad {g.Name}");
        }
    }

    internal static void AssertClose(double[] actual, double[] expected, double rtol, double atol, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + " length");
        for (int i = 0; i < actual.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(atol + rtol * Math.Abs(expected[i])), $"{what}[{i}]");
    }
}
