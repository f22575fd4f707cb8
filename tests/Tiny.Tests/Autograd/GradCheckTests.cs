// GradCheckTests: every differentiable op's gradient against finite differences in float64, over a table of cases.
using NUnit.Framework;

namespace Tiny.Tests.Autograd;

public sealed class GradCheckTests
{
    private static Tensor R(params int[] shape) => Tensor.Uniform(shape, -1, 1, new Rng(shape.Sum() * 31 + shape.Length), DType.Float64);
    private static Tensor Pos(params int[] shape) => Tensor.Uniform(shape, 0.5, 2, new Rng(shape.Sum() * 17 + 1), DType.Float64);

    public sealed record Case(string Name, Func<Tensor[], Tensor> F, Func<Tensor[]> Inputs)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Case> Cases()
    {
        yield return new("add_broadcast", t => t[0] + t[1], () => [R(3, 1, 4), R(2, 1)]);
        yield return new("sub_broadcast", t => t[0] - t[1], () => [R(2, 3), R(3)]);
        yield return new("mul_broadcast", t => t[0] * t[1], () => [R(3, 1, 4), R(2, 1)]);
        yield return new("div_broadcast", t => t[0] / t[1], () => [R(2, 3), Pos(2, 1)]);
        yield return new("scalar_ops", t => (t[0] * 3 + 2) / 4 - (1.5 - t[0]) + 2 / (t[0] + 3), () => [R(4)]);
        yield return new("pow_scalar", t => t[0].Pow(3) + t[1].Pow(0.5), () => [R(5), Pos(5)]);
        yield return new("pow_tensor", t => t[0].Pow(t[1]), () => [Pos(2, 3), R(3)]);
        yield return new("neg_exp_log_sqrt", t => -t[0].Exp() + t[1].Log() + t[1].Sqrt(), () => [R(2, 3), Pos(2, 3)]);
        yield return new("square_reciprocal_abs", t => t[0].Square() + t[1].Reciprocal() + t[0].Abs(), () => [R(7), Pos(7)]);
        yield return new("tanh_sigmoid_relu", t => t[0].Tanh() + t[0].Sigmoid() + t[0].Relu(), () => [R(3, 4)]);
        yield return new("sin_cos", t => t[0].Sin() * t[0].Cos(), () => [R(6)]);
        yield return new("clamp", t => t[0].Clamp(-0.5, 0.4), () => [R(10)]);
        yield return new("maximum_minimum", t => t[0].Maximum(t[1]) + t[0].Minimum(t[1]) * 2, () => [R(3, 4), R(4)]);
        yield return new("where", t => Tensor.Where(t[0].Gt(0), t[0] * t[1], t[1].Exp()), () => [R(3, 3), R(3, 3)]);
        yield return new("sum_all", t => t[0].Sum(), () => [R(3, 4)]);
        yield return new("sum_axis", t => t[0].Sum(1) + t[0].Sum(0, keepDim: true).Sum(), () => [R(3, 4)]);
        yield return new("mean_axis_3d", t => t[0].Mean(1, keepDim: true) * t[0], () => [R(2, 3, 4)]);
        yield return new("max_min_axis", t => t[0].Max(1) + t[0].Min(0).Sum(), () => [R(3, 5)]);
        yield return new("max_all", t => t[0].Max() * t[0].Min(), () => [R(4, 3)]);
        yield return new("logsumexp", t => t[0].LogSumExp(1), () => [R(4, 6)]);
        yield return new("logsumexp_axis0_keep", t => t[0].LogSumExp(0, keepDim: true), () => [R(3, 2, 2)]);
        yield return new("softmax_last", t => t[0].Softmax(-1), () => [R(3, 5)]);
        yield return new("softmax_axis0", t => t[0].Softmax(0), () => [R(3, 5)]);
        yield return new("log_softmax_3d", t => t[0].LogSoftmax(-1), () => [R(2, 3, 4)]);
        yield return new("matmul_2d", t => t[0].MatMul(t[1]), () => [R(3, 4), R(4, 2)]);
        yield return new("matmul_batched", t => t[0].MatMul(t[1]), () => [R(2, 3, 4), R(2, 4, 5)]);
        yield return new("matmul_batched_broadcast_b", t => t[0].MatMul(t[1]), () => [R(2, 3, 4), R(4, 5)]);
        yield return new("matmul_batched_broadcast_a", t => t[0].MatMul(t[1]), () => [R(3, 4), R(2, 4, 5)]);
        yield return new("matmul_vector", t => t[0].MatMul(t[1]), () => [R(3, 4), R(4)]);
        yield return new("linear", t => Tensor.Linear(t[0], t[1], t[2]), () => [R(5, 3), R(4, 3), R(4)]);
        yield return new("linear_3d_input", t => Tensor.Linear(t[0], t[1]), () => [R(2, 5, 3), R(4, 3)]);
        yield return new("linear_relu", t => Tensor.LinearRelu(t[0], t[1], t[2]), () => [R(6, 3), R(9, 3), R(9)]);
        yield return new("linear_relu_3d_input_no_bias", t => Tensor.LinearRelu(t[0], t[1]), () => [R(2, 5, 3), R(4, 3)]);
        yield return new("linear_relu_one_column", t => Tensor.LinearRelu(t[0], t[1], t[2]), () => [R(5, 3), R(1, 3), R(1)]);
        yield return new("reshape_permute", t => t[0].Permute(2, 0, 1).Reshape(4, 6) * t[1], () => [R(2, 3, 4), R(4, 6)]);
        yield return new("transpose_T", t => t[0].T.MatMul(t[0]), () => [R(3, 2)]);
        yield return new("expand", t => t[0].Expand(3, 2, 4) * t[1], () => [R(2, 1), R(3, 2, 4)]);
        yield return new("squeeze_unsqueeze_flatten", t => t[0].Unsqueeze(1).Squeeze(1).Flatten() * 2, () => [R(3, 4)]);
        yield return new("narrow_slice_select", t => t[0].Narrow(1, 1, 2).Sum(1) + t[0].Slice(0, -2, 3).Sum() + t[0].Select(1, 0), () => [R(3, 4)]);
        yield return new("cat_stack", t => Tensor.Cat([t[0], t[1]], 1).Sum(0) + Tensor.Stack([t[0].Sum(1), t[0].Mean(1)], 0).Sum(), () => [R(2, 3), R(2, 2)]);
        yield return new("gather_repeat", t => t[0].Gather(1, [0, 4, 2, 2, 3, 1], 3, 2), () => [R(3, 5)]);
        yield return new("index_select", t => t[0].IndexSelect(0, [2, 0, 2]), () => [R(3, 4)]);
        yield return new("mse_loss", t => Tiny.Nn.F.MseLoss(t[0], t[1]), () => [R(4, 3), R(4, 3)]);
        yield return new("smooth_l1", t => Tiny.Nn.F.SmoothL1Loss(t[0] * 3, t[1]), () => [R(4, 3), R(4, 3)]);
        yield return new("cross_entropy", t => Tiny.Nn.F.CrossEntropy(t[0], [1, 0, 4, 2]), () => [R(4, 5)]);
        yield return new("reused_input", t => t[0] * t[0] + t[0].Tanh() * t[0], () => [R(5)]);
    }

    [TestCaseSource(nameof(Cases))]
    public void GradientMatchesFiniteDifferences(Case c) => GradCheck.Check(c.F, c.Inputs());
}
