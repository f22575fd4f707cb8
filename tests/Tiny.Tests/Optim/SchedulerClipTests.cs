// LR schedulers and gradient clipping against PyTorch's sched_golden.json.
using System.Text.Json;
using NUnit.Framework;
using Tiny.Optim;

namespace Tiny.Tests.Optim;

public sealed class SchedulerClipTests
{
    private static readonly Lazy<JsonElement> Root = new(() => JsonDocument.Parse(File.ReadAllText(Golden.DataPath("sched_golden.json"))).RootElement);

    private static LrScheduler Make(string name, JsonElement args, Optimizer opt)
    {
        double A(string k) => args.GetProperty(k).GetDouble();
        return name switch
        {
            "LinearLR" => new LinearLR(opt, A("start_factor"), A("end_factor"), (int)A("total_iters")),
            "StepLR" => new StepLR(opt, (int)A("step_size"), A("gamma")),
            "ExponentialLR" => new ExponentialLR(opt, A("gamma")),
            "CosineAnnealingLR" => new CosineAnnealingLR(opt, (int)A("T_max"), A("eta_min")),
            "LambdaLR" => new LambdaLR(opt, epoch => 1.0 / (1 + epoch)),
            _ => throw new ArgumentException(name),
        };
    }

    [TestCase("LinearLR"), TestCase("StepLR"), TestCase("ExponentialLR"), TestCase("CosineAnnealingLR"), TestCase("LambdaLR")]
    public void SchedulerMatchesTorch(string name)
    {
        var c = Root.Value.GetProperty("schedulers").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);
        var opt = new Sgd([Tensor.Zeros(2)], lr: c.GetProperty("base_lr").GetDouble());
        var sched = Make(name, c.GetProperty("args"), opt);
        var lrs = c.GetProperty("lrs").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        for (int k = 0; k < lrs.Length; k++)
        {
            Assert.That(opt.ParamGroups[0].Lr, Is.EqualTo(lrs[k]), $"{name} lr used by step {k + 1}");
            opt.Step();
            sched.Step();
        }
    }

    [Test]
    public void AdaBoundWithStepLRScalesFinalLr()
    {
        var c = Golden.Parse(Root.Value.GetProperty("adabound_scheduled"));
        var ps = c.MakeParams();
        var opt = c.MakeOptimizer(ps);
        var sched = new StepLR(opt, 10, 0.5);
        for (int k = 0; k < c.Steps; k++)
        {
            Assert.That(opt.ParamGroups[0].Lr, Is.EqualTo(c.Lrs![k]));
            ps[0].Grad = c.MakeTensor(([2], c.Grads![k]["p"]));
            opt.Step();
            sched.Step();
            Assert.That(ps[0].ToDoubleArray(), Is.EqualTo(c.Trajectory[k]["p"]), $"step {k + 1}");
        }
    }

    [Test]
    public void ClipMatchesTorch()
    {
        foreach (var c in Root.Value.GetProperty("clip").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            bool f32 = c.GetProperty("dtype").GetString() == "float32";
            Tensor Make((int[] Shape, double[] Data) t) => f32 ? Tensor.FromArray(Array.ConvertAll(t.Data, x => (float)x), t.Shape) : Tensor.FromArray(t.Data, t.Shape);
            var ps = c.GetProperty("grads").EnumerateArray().Select(g => { var t = Golden.T(g); var p = Make(t); p.Grad = Make(t); return p; }).ToList();
            var want = c.GetProperty("clipped").EnumerateArray().Select(Golden.T).ToList();
            if (c.GetProperty("fn").GetString() == "clip_grad_value_")
                Clip.GradValue(ps, c.GetProperty("clip_value").GetDouble());
            else
            {
                var nt = c.GetProperty("norm_type");
                double normType = nt.ValueKind == JsonValueKind.String ? double.PositiveInfinity : nt.GetDouble();
                double total = Clip.GradNorm(ps, c.GetProperty("max_norm").GetDouble(), normType);
                Assert.That(Golden.Rel(total, c.GetProperty("total_norm").GetDouble()), Is.LessThanOrEqualTo(f32 ? 2e-7 : 1e-15), $"{name} total norm");
            }
            for (int i = 0; i < ps.Count; i++)
            {
                var got = ps[i].Grad!.ToDoubleArray();
                for (int j = 0; j < got.Length; j++)
                    Assert.That(Golden.Rel(got[j], want[i].Data[j]), Is.LessThanOrEqualTo(f32 ? 2.5e-7 : 1e-15), $"{name} grad {i}[{j}]");
            }
        }
    }
}
