// NnTests: modules, initialisers and safetensors checkpoints (round trip, corrupt files leave the module unchanged).
using System.Buffers.Binary;
using System.Text;
using NUnit.Framework;
using Tiny.Nn;

namespace Tiny.Tests.Nn;

public sealed class NnTests
{
    private string _dir = "";

    [SetUp] public void SetUp() { _dir = Path.Combine(Path.GetTempPath(), "tiny-nn-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(_dir); }
    [TearDown] public void TearDown() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    [Test]
    public void LinearDefaultInitIsUniformWithinOneOverSqrtFanIn()
    {
        var l = new Linear(50, 40, new Rng(0));
        double bound = 1 / Math.Sqrt(50);
        var w = l.Weight.ToDoubleArray();
        Assert.That(w, Is.All.InRange(-bound, bound));
        Assert.That(w.Max(), Is.GreaterThan(0.9 * bound));
        Assert.That(w.Min(), Is.LessThan(-0.9 * bound));
        Assert.That(l.Bias!.ToDoubleArray(), Is.All.InRange(-bound, bound));
    }

    [Test]
    public void NamedParametersFollowPyTorchNaming()
    {
        var net = Mlp.Create([4, 8, 2], () => new Tanh(), new Rng(1));
        var names = net.NamedParameters().Select(p => p.Key).ToArray();
        Assert.That(names, Is.EqualTo(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }));
        Assert.That(net.ParameterCount, Is.EqualTo(4 * 8 + 8 + 8 * 2 + 2));
        Assert.That(net.Parameters().All(p => p.RequiresGrad));
        net.Eval();
        Assert.That(net[0].Training, Is.False);
    }

    [Test]
    public void OrthogonalInitGivesOrthonormalRowsOrColumns()
    {
        foreach (var (r, c) in new[] { (6, 4), (4, 6) })
        {
            var t = Tensor.Zeros([r, c], DType.Float64);
            Init.Orthogonal(t, new Rng(3), gain: 2);
            var q = t / 2;
            var g = r >= c ? q.T.MatMul(q) : q.MatMul(q.T);
            int n = Math.Min(r, c);
            var gv = g.ToDoubleArray();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    Assert.That(gv[i * n + j], Is.EqualTo(i == j ? 1.0 : 0.0).Within(1e-12));
        }
    }

    [Test]
    public void XavierAndKaimingBounds()
    {
        var t = Tensor.Zeros(30, 20);
        Init.XavierUniform(t, new Rng(1));
        Assert.That(t.ToDoubleArray(), Is.All.InRange(-Math.Sqrt(6.0 / 50), Math.Sqrt(6.0 / 50)));
        Init.KaimingUniform(t, new Rng(1));
        Assert.That(t.ToDoubleArray(), Is.All.InRange(-Math.Sqrt(2) * Math.Sqrt(3.0 / 20), Math.Sqrt(2) * Math.Sqrt(3.0 / 20)));
        Init.KaimingNormal(t, new Rng(2));
        double std = Math.Sqrt(t.ToDoubleArray().Select(v => v * v).Average());
        Assert.That(std, Is.EqualTo(Math.Sqrt(2.0 / 20)).Within(0.03));
        Init.Constant(t, 0.5);
        Assert.That(t.ToArray(), Is.All.EqualTo(0.5f));
    }

    [Test]
    public void SafetensorsRoundTripAndFormat()
    {
        var a = Mlp.Create([3, 5, 2], () => new ReLU(), new Rng(1));
        var b = Mlp.Create([3, 5, 2], () => new ReLU(), new Rng(2));
        string path = Path.Combine(_dir, "m.safetensors");
        a.Save(path);
        b.Load(path);
        foreach (var (pa, pb) in a.Parameters().Zip(b.Parameters())) Assert.That(pb.ToArray(), Is.EqualTo(pa.ToArray()));
        // The header is the documented format: u64 length + JSON with dtype/shape/data_offsets.
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.That(header, Does.Contain("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[5,3],\"data_offsets\":[0,60]}"));
        Assert.That(bytes.Length, Is.EqualTo(8 + (int)n + 4 * (15 + 5 + 10 + 2)));
    }

    [Test]
    public void CorruptOrMismatchedCheckpointLeavesModuleUnchanged()
    {
        var a = Mlp.Create([3, 5, 2], () => new ReLU(), new Rng(1));
        string good = Path.Combine(_dir, "good.safetensors");
        a.Save(good);
        var bytes = File.ReadAllBytes(good);

        var b = Mlp.Create([3, 5, 2], () => new ReLU(), new Rng(2));
        var before = b.Parameters().Select(p => p.ToArray()).ToList();
        void AssertUnchanged() { foreach (var (p, v) in b.Parameters().Zip(before)) Assert.That(p.ToArray(), Is.EqualTo(v)); }

        string truncated = Path.Combine(_dir, "trunc.safetensors");
        File.WriteAllBytes(truncated, bytes[..^10]);
        Assert.That(Assert.Throws<InvalidDataException>(() => b.Load(truncated))!.Message, Does.Contain("truncated"));
        AssertUnchanged();

        string garbage = Path.Combine(_dir, "garbage.safetensors");
        var g = (byte[])bytes.Clone();
        g[12] = (byte)'}';
        File.WriteAllBytes(garbage, g);
        Assert.Throws<InvalidDataException>(() => b.Load(garbage));
        AssertUnchanged();

        File.WriteAllBytes(Path.Combine(_dir, "tiny.safetensors"), [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => b.Load(Path.Combine(_dir, "tiny.safetensors")));
        Assert.Throws<FileNotFoundException>(() => b.Load(Path.Combine(_dir, "missing.safetensors")));

        var wrongShape = Mlp.Create([3, 6, 2], () => new ReLU(), new Rng(1));
        string other = Path.Combine(_dir, "other.safetensors");
        wrongShape.Save(other);
        Assert.That(Assert.Throws<InvalidDataException>(() => b.Load(other))!.Message, Does.Contain("'0.weight' has shape [6, 3] in the file but [5, 3] in the module"));
        AssertUnchanged();
    }

    [Test]
    public void CopyFromCopiesValues()
    {
        var a = Mlp.Create([2, 3, 1], () => new Tanh(), new Rng(1));
        var b = Mlp.Create([2, 3, 1], () => new Tanh(), new Rng(2));
        b.CopyFrom(a);
        Assert.That(b.Parameters().First().ToArray(), Is.EqualTo(a.Parameters().First().ToArray()));
    }

    [Test]
    public void MlpLearnsXor()
    {
        var rng = new Rng(0);
        var net = Mlp.Create([2, 8, 1], () => new Tanh(), rng);
        var x = Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 0, 1, 1 }, 4, 2);
        var y = Tensor.FromArray(new float[] { 0, 1, 1, 0 }, 4, 1);
        float loss = 0;
        for (int step = 0; step < 2000; step++)
        {
            net.ZeroGrad();
            var l = F.MseLoss(net.Forward(x), y);
            l.Backward();
            using (Tensor.NoGrad()) foreach (var p in net.Parameters()) p.AddInPlace(p.Grad!, -0.2);
            loss = (float)l.Item();
        }
        Assert.That(loss, Is.LessThan(0.01));
    }
}
