// The optimizer registry (Optimizers): keys derived from the options records, defaults, spec strings, errors, state
// dict JSON, and OptimizerSpec (Tiny.Rl) standing on it. Cases run over every registered optimizer, so a new one is
// tested by its registry line alone.
using System.Globalization;
using System.Text.Json;
using NUnit.Framework;
using Tiny.Optim;
using Tiny.Rl;

namespace Tiny.Tests.Optim;

public sealed class RegistryTests
{
    public static IEnumerable<string> Names => Optimizers.Names;

    /// <summary>A valid value different from the default (for spec and JSON round trips).</summary>
    public static object Changed(OptionInfo o) => Candidates(o).First();

    /// <summary>Values of an option other than its default: halved, doubled, then 10, 1e3 and 1e5 times smaller and larger, 1e9 larger (0: 0.1; a step count far past
    /// any test run, like ASGD's t0 = 1e6: 10; a bool: flipped; an int: +1).</summary>
    public static IEnumerable<object> Candidates(OptionInfo o) => o.Default switch
    {
        bool b => [!b],
        int i => [i + 1, i + 10, i + 100],   // a warmup of 1 step is no warmup: 10 and 100 are
        long l => [l + 1, l + 10, l + 100],
        double d when d == 0 => [0.1],
        double d when d > 1000 => [10.0],
        double d => [d * 0.5, d * 2, d * 0.1, d * 10, d * 1e-3, d * 1e3, d * 1e-5, d * 1e5, d * 1e9],   // 1e9: an eps above the gradients
        _ => throw new NotSupportedException(o.Type.Name),
    };

    [Test]
    public void KeysAreTheRecordsPropertiesInSnakeCaseWithTorchsSpellings()
    {
        Assert.That(Optimizers.Info("sgd").Keys, Is.EqualTo(new[] { "lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize" }));
        Assert.That(Optimizers.Info("adam").Keys, Is.EqualTo(new[] { "lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize" }));
        Assert.That(Optimizers.Info("adamw").Keys, Is.EqualTo(Optimizers.Info("adam").Keys));
        Assert.That(Optimizers.Info("adabound").Keys,
                    Is.EqualTo(new[] { "lr", "beta1", "beta2", "final_lr", "gamma", "eps", "weight_decay", "amsbound", "adaboundw" }));
        Assert.That(Optimizers.Info("alphagrad").Keys,
                    Is.EqualTo(new[] { "lr", "alpha", "eps", "momentum", "dampening", "nesterov", "weight_decay", "maximize" }));
        var wd = Optimizers.Info("adam").Find("weight-decay")!;
        Assert.That((wd.Key, wd.Flag, wd.Type, wd.Default), Is.EqualTo(("weight_decay", "--weight-decay", typeof(double), (object)0.0)));
        Assert.That(Optimizers.Info("adamw").Find("WEIGHT_DECAY")!.Default, Is.EqualTo(1e-2));
        Assert.That(Optimizers.Info("adabound").Find("adaboundw")!.Property.Name, Is.EqualTo("Decoupled"));
        Assert.That(Optimizers.SnakeCase("InitialAccumulatorValue"), Is.EqualTo("initial_accumulator_value"));
        Assert.That(Optimizers.SnakeCase("Beta2"), Is.EqualTo("beta2"));
    }

    /// <summary>A record shaped like the next optimizers' (lr default in the primary constructor, options as init
    /// properties of every supported type): what a registry line derives from it.</summary>
    private sealed record LikeRmsPropOptions(double Lr = 1e-2) : OptimizerOptions(Lr)
    {
        public double Alpha { get; init; } = 0.99;
        public double Eps { get; init; } = 1e-8;
        public double InitialAccumulatorValue { get; init; }
        public bool Centered { get; init; }
        public int Warmup { get; init; } = 3;
        public long Seed { get; init; } = 5;
        public override void Validate() { }
    }

    [Test]
    public void AnyOptionsRecordYieldsItsKeysTypesAndDefaults()
    {
        var keys = Optimizers.OptionsOf(typeof(LikeRmsPropOptions));
        Assert.That(keys.Select(k => (k.Key, k.Type, k.Default)), Is.EqualTo(new (string, Type, object)[]
        {
            ("lr", typeof(double), 1e-2), ("alpha", typeof(double), 0.99), ("eps", typeof(double), 1e-8),
            ("initial_accumulator_value", typeof(double), 0.0), ("centered", typeof(bool), false), ("warmup", typeof(int), 3), ("seed", typeof(long), 5L),
        }));
        Assert.That(keys.Select(k => k.Flag), Is.EqualTo(new[] { "--lr", "--alpha", "--eps", "--initial-accumulator-value", "--centered", "--warmup", "--seed" }));
    }

    // PyTorch 2.x's default lrs (SGD has none there: the playground's 1e-3); checked for those registered.
    private static readonly Dictionary<string, double> TorchLr = new()
    {
        ["sgd"] = 1e-3, ["adam"] = 1e-3, ["adamw"] = 1e-3, ["adabound"] = 1e-3, ["alphagrad"] = 1e-3,
        ["rmsprop"] = 1e-2, ["adagrad"] = 1e-2, ["adadelta"] = 1.0, ["adamax"] = 2e-3, ["nadam"] = 2e-3, ["radam"] = 1e-3,
    };

    [TestCaseSource(nameof(Names))]
    public void EveryOptimizerBuildsWithDefaultsAndSteps(string name)
    {
        var info = Optimizers.Info(name);
        Assert.That(info.Description, Is.Not.Empty);
        if (TorchLr.TryGetValue(name, out var lr)) Assert.That(info.Defaults.Lr, Is.EqualTo(lr), "playground default lr");
        Assert.That(info.Options[0].Key, Is.EqualTo("lr"));
        foreach (var o in info.Options)
            Assert.That(Optimizers.Get(info.Defaults, o.Key), Is.EqualTo(o.Default), o.Key);
        foreach (bool f32 in new[] { false, true })
        {
            var p = f32 ? Tensor.FromArray(new float[] { 1, -2, 3 }, 3) : Tensor.FromArray(new double[] { 1, -2, 3 }, 3);
            p.RequiresGrad = true;
            var opt = Optimizers.Create(name, [p], new Dictionary<string, string>());
            Assert.That(opt.Lr, Is.EqualTo(info.Defaults.Lr));
            Assert.That(opt.ParamGroups[0].Options, Is.EqualTo(info.Defaults));
            var before = p.ToDoubleArray();
            for (int k = 0; k < 3; k++) { opt.ZeroGrad(); (p * p).Sum().Backward(); opt.Step(); }
            var after = p.ToDoubleArray();
            for (int i = 0; i < 3; i++) Assert.That(Math.Abs(after[i]), Is.LessThan(Math.Abs(before[i])), $"{name} f32={f32}: |p[{i}]| shrinks on sum(p^2)");
            // The same through OptimizerSpec (Tiny.Rl): lr falls back to the agent's default.
            Assert.That(new OptimizerSpec(name, new Dictionary<string, double>()).Create([p], 0.05).Lr, Is.EqualTo(0.05));
        }
    }

    [TestCaseSource(nameof(Names))]
    public void SpecStringsRoundTripEveryKey(string name)
    {
        var info = Optimizers.Info(name);
        var args = info.Options.ToDictionary(o => o.Key, o => Optimizers.Format(Changed(o)));
        args["lr"] = Optimizers.Format(1.0 / 3);   // needs all 17 digits
        string spec = Optimizers.Format(name, args);
        Assert.That(spec, Does.StartWith(name + ":lr=0.3333333333333333,"));
        var (n, parsed) = Optimizers.Parse(spec);
        Assert.That(n, Is.EqualTo(name));
        Assert.That(parsed, Is.EqualTo(args));
        var o = Optimizers.Options(name, parsed);
        foreach (var k in info.Options)
            Assert.That(Optimizers.Get(o, k.Key), Is.EqualTo(k.Key == "lr" ? 1.0 / 3 : Changed(k)), k.Key);
        // Kebab-case keys and upper case read the same; the writer spells snake_case.
        var kebab = name.ToUpperInvariant() + ":" + string.Join(",", args.Select(kv => $"{kv.Key.Replace('_', '-')}={kv.Value}"));
        Assert.That(Optimizers.Parse(kebab).Args, Is.EqualTo(args));
        Assert.That(Optimizers.Format(name, Optimizers.Parse(kebab).Args), Is.EqualTo(spec));
        // OptimizerSpec (which validates: every key changed that keeps the options valid) writes the registry's string
        // and reads it back; its JSON too.
        var valid = new Dictionary<string, string>();
        foreach (var k in info.Options)
        {
            var trial = new Dictionary<string, string>(valid) { [k.Key] = args[k.Key] };
            try { Optimizers.Options(name, trial).Validate(); valid = trial; } catch (ArgumentException) { }
        }
        Assert.That(valid.Count, Is.GreaterThanOrEqualTo(info.Options.Count - 1), "at most one change is invalid with the others");
        var s = OptimizerSpec.Parse(name + ":" + string.Join(",", valid.Select(kv => $"{kv.Key.Replace('_', '-')}={kv.Value}")));
        Assert.That(s.ToString(), Is.EqualTo(Optimizers.Format(name, valid)));
        Assert.That(s.Args.Keys, Is.EquivalentTo(valid.Keys));
        Assert.That(OptimizerSpec.Parse(s.ToString()), Is.EqualTo(s));
        Assert.That(OptimizerSpec.FromJsonString(s.ToJsonString()), Is.EqualTo(s));
    }

    [Test]
    public void DashAndUnderscoreAreOneKey()
    {
        var a = Optimizers.Options("adabound", new Dictionary<string, string> { ["final-lr"] = "0.2", ["weight-decay"] = "0.01" });
        var b = Optimizers.Options("adabound", new Dictionary<string, string> { ["final_lr"] = "0.2", ["weight_decay"] = "0.01" });
        Assert.That(a, Is.EqualTo(b));
        Assert.That(((AdaBoundOptions)a).FinalLr, Is.EqualTo(0.2));
        Assert.That(Optimizers.With(new AdamOptions(), "weight-decay", "0.5"), Is.EqualTo(new AdamOptions { WeightDecay = 0.5 }));
        Assert.That(OptimizerSpec.Parse("adam:weight-decay=0.1"), Is.EqualTo(OptimizerSpec.Parse("adam:weight_decay=0.1")));
        Assert.That(new OptimizerSpec("adam", new Dictionary<string, double> { ["weight-decay"] = 0.1 }).Args.Keys, Is.EqualTo(new[] { "weight_decay" }));
        Assert.That(OptimizerSpec.Parse("sgd:momentum=0.9").With("weight-decay", 0.1).ToString(), Is.EqualTo("sgd:momentum=0.9,weight_decay=0.1"));
        // A config.json written before the registry: kebab keys, booleans as 1/0.
        var old = OptimizerSpec.FromJsonString("""{"name":"adabound","args":{"final-lr":0.05,"weight-decay":0.001,"amsbound":1}}""");
        Assert.That(old.ToString(), Is.EqualTo("adabound:final_lr=0.05,weight_decay=0.001,amsbound=true"));
        Assert.That(old.ToJsonString(), Is.EqualTo("""{"name":"adabound","args":{"final_lr":0.05,"weight_decay":0.001,"amsbound":true}}"""));
        var opt = (AdaBoundOptions)old.Create([Tensor.Zeros(2)], 0.01).ParamGroups[0].Options;
        Assert.That((opt.Lr, opt.FinalLr, opt.WeightDecay, opt.AmsBound), Is.EqualTo((0.01, 0.05, 0.001, true)));
    }

    [Test]
    public void BooleansTakeTrueFalseOneZeroOrABareKey()
    {
        foreach (var (text, want) in new[] { ("adam:amsgrad", true), ("adam:amsgrad=true", true), ("adam:amsgrad=1", true),
                                             ("adam:amsgrad=false", false), ("adam:amsgrad=0", false), ("adam:amsgrad=TRUE", true) })
        {
            var (name, args) = Optimizers.Parse(text);
            Assert.That(((AdamOptions)Optimizers.Options(name, args)).Amsgrad, Is.EqualTo(want), text);
            Assert.That(OptimizerSpec.Parse(text).Args["amsgrad"], Is.EqualTo(want ? 1.0 : 0.0), text);
        }
        Assert.That(Optimizers.Format("adam", new Dictionary<string, string> { ["amsgrad"] = "1" }), Is.EqualTo("adam:amsgrad=true"));
    }

    [Test]
    public void ErrorsNameTheOptimizerTheKeyAndWhatIsValid()
    {
        string Message(TestDelegate f) => Assert.Throws<ArgumentException>(f)!.Message;
        var keys = "lr, beta1, beta2, eps, weight_decay, amsgrad, maximize";
        Assert.That(Message(() => Optimizers.Parse("adam:foo=1")), Is.EqualTo($"optimizer 'adam' has no option 'foo'; it takes: {keys}"));
        Assert.That(Message(() => Optimizers.Options("adam", new Dictionary<string, string> { ["alpha"] = "2" })),
                    Is.EqualTo($"optimizer 'adam' has no option 'alpha'; it takes: {keys}"));
        Assert.That(Message(() => OptimizerSpec.Parse("adam:alpha=2")), Is.EqualTo($"optimizer 'adam' has no option 'alpha'; it takes: {keys}"));
        Assert.That(Message(() => new OptimizerSpec("adam", new Dictionary<string, double> { ["alpha"] = 2 }).Validate()),
                    Does.Contain("it takes: " + keys));
        Assert.That(Message(() => Optimizers.Info("nope")), Does.StartWith("unknown optimizer 'nope'; known: " + string.Join(", ", Optimizers.Names)));
        Assert.That(Message(() => Optimizers.Parse("nope:lr=1")), Does.StartWith("unknown optimizer 'nope'"));
        Assert.That(Message(() => Optimizers.Parse("adam:beta1=x")), Is.EqualTo("optimizer 'adam': option 'beta1': 'x' is not a number"));
        Assert.That(Message(() => Optimizers.Parse("adam:amsgrad=2")), Does.Contain("option 'amsgrad': '2' is not true or false"));
        Assert.That(Message(() => Optimizers.Parse("adam:eps")), Does.Contain("option 'eps' needs a value"));
        Assert.That(Message(() => OptimizerSpec.Parse("adam:amsgrad=0.5")), Does.Contain("amsgrad"));
        Assert.That(Message(() => OptimizerSpec.Parse("adam:lr=-1")), Does.StartWith("Invalid learning rate: -1.0"));
        Assert.That(Message(() => Optimizers.With(new SgdOptions(0.1), "beta1", "0.5")), Does.StartWith("optimizer 'sgd' has no option 'beta1'; it takes: lr, momentum"));
    }

    [TestCaseSource(nameof(Names))]
    public void StateDictJsonRoundTripsBitIdentically(string name)
    {
        foreach (bool f32 in new[] { false, true })
        {
            var c = Golden.Get(f32 ? "mlp_adam_f32" : "mlp_adam");
            var x = c.MakeTensor(c.X); var y = c.MakeTensor(c.Y);
            // Two groups: the defaults with 17-digit lr and eps (where it has one), and an override of lr.
            var defaults = Optimizers.Options(name, new Dictionary<string, string> { ["lr"] = Optimizers.Format(Optimizers.Info(name).Defaults.Lr / 3) });
            if (Optimizers.Info(name).Find("eps") is { } eps) defaults = Optimizers.With(defaults, "eps", (object)((double)eps.Default / 3));
            Optimizer Make(List<Tensor> ps) => Optimizers.Create(name, defaults,
                [(ps.Take(2), new Dictionary<string, string>()), (ps.Skip(2), new Dictionary<string, string> { ["lr"] = Optimizers.Format(defaults.Lr / 7) })]);
            void Run(List<Tensor> ps, Optimizer o, int n) { for (int k = 0; k < n; k++) { o.ZeroGrad(); Golden.MlpLoss(ps, x, y).Backward(); o.Step(); } }
            var a = c.MakeParams(); var oa = Make(a);
            Run(a, oa, 12);
            var b = c.MakeParams(); var ob = Make(b);
            Run(b, ob, 6);
            var json = JsonSerializer.Serialize(ob.StateDict());
            Assert.That(json, Does.Contain($"\"type\":\"{Optimizers.NameOf(defaults.GetType())}\"").And.Contain("\"lr\":").And.Not.Contain("\"Lr\""));
            var sd = JsonSerializer.Deserialize<OptimizerStateDict>(json)!;
            for (int g = 0; g < 2; g++) Assert.That(sd.Groups[g].Options, Is.EqualTo(ob.ParamGroups[g].Options), $"group {g} options");
            Assert.That(JsonSerializer.Serialize(sd), Is.EqualTo(json));
            var b2 = b.Select(t => { var u = t.Detach().Clone(); u.Name = t.Name; u.RequiresGrad = true; return u; }).ToList();
            var ob2 = Make(b2);
            ob2.LoadStateDict(sd);
            Assert.That(ob2.StateBytes, Is.EqualTo(ob.StateBytes));
            Run(b2, ob2, 6);
            for (int i = 0; i < a.Count; i++) Assert.That(b2[i].ToDoubleArray(), Is.EqualTo(a[i].ToDoubleArray()), $"{name} f32={f32} {a[i].Name}");
        }
    }

    [Test]
    public void OptionsJsonIsTheRegistrysKeysAndReadsPropertyNamesToo()
    {
        OptimizerOptions o = new AdaBoundOptions(0.1) { AmsBound = true, Gamma = 1.0 / 3 };
        var json = JsonSerializer.Serialize(o);
        Assert.That(json, Is.EqualTo("{\"type\":\"adabound\",\"lr\":0.1,\"beta1\":0.9,\"beta2\":0.999,\"final_lr\":0.1,\"gamma\":"
                                     + (1.0 / 3).ToString("R", CultureInfo.InvariantCulture)
                                     + ",\"eps\":1E-08,\"weight_decay\":0,\"amsbound\":true,\"adaboundw\":false}"));
        Assert.That(JsonSerializer.Deserialize<OptimizerOptions>(json), Is.EqualTo(o));
        // What the [JsonPolymorphic] attributes wrote before the registry.
        Assert.That(JsonSerializer.Deserialize<OptimizerOptions>("""{"type":"adabound","Lr":0.1,"Gamma":0.5,"AmsBound":true,"Decoupled":true}"""),
                    Is.EqualTo(new AdaBoundOptions(0.1) { Gamma = 0.5, AmsBound = true, Decoupled = true }));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<OptimizerOptions>("""{"type":"adam","alpha":1}"""));
    }
}
