// `tiny optim run|plot` in-process: CSV rows against the golden trajectories, errors, the PNG.
using System.Globalization;
using NUnit.Framework;
using Tiny.Cli;

namespace Tiny.Tests.Optim;

public sealed class OptimCliTests
{
    internal static (int Rc, string Out, string Err) Tiny(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int rc = Program.Run(args, o, e);
        return (rc, o.ToString(), e.ToString());
    }

    [TestCase("adam_amsgrad_rosenbrock", "--optimizer adam --function rosenbrock --start -1.2,1 --steps 120 --lr 0.05 --amsgrad")]
    [TestCase("sgd_nesterov_beale_f32", null)]
    [TestCase("alphagrad_momentum_rosenbrock", null)]
    public void RunCsvMatchesGolden(string name, string? cmdline)
    {
        var c = Golden.Get(name);
        var args = new List<string> { "optim", "run", "--optimizer", c.Optimizer, "--function", c.Problem, "--steps", c.Steps.ToString(CultureInfo.InvariantCulture),
                                      "--start", string.Join(",", c.Start["p"].Data.Select(x => x.ToString("R", CultureInfo.InvariantCulture))), "--dtype", c.DType };
        foreach (var (k, v) in c.Options) args.AddRange(v == "true" ? [$"--{k.Replace('_', '-')}"] : [$"--{k.Replace('_', '-')}", v]);
        if (cmdline is not null) { args = ["optim", "run", .. cmdline.Split(' ')]; }
        var (rc, stdout, err) = Tiny([.. args]);
        Assert.That(rc, Is.EqualTo(0), err);
        var lines = stdout.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.That(lines[0], Is.EqualTo("step,loss,x0,x1"));
        Assert.That(lines, Has.Length.EqualTo(c.Steps + 2));
        for (int k = 0; k <= c.Steps; k++)
        {
            // float32 values are printed with G9: parse them back to float (exact round trip).
            var v = lines[k + 1].Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).Select(x => c.F32 ? (double)(float)x : x).ToArray();
            Assert.That(v[0], Is.EqualTo(k));
            var want = k == 0 ? c.Start["p"].Data : c.Trajectory[k - 1]["p"];
            double tol = c.Optimizer == "alphagrad" ? 1e-9 : c.F32 ? 1e-5 : 0;   // own autograd (float32 sums round differently) + tanh
            Assert.That(Golden.Rel(v[2], want[0]), Is.LessThanOrEqualTo(tol), $"x0 at step {k}");
            Assert.That(Golden.Rel(v[3], want[1]), Is.LessThanOrEqualTo(tol), $"x1 at step {k}");
            if (k < c.Steps) Assert.That(Golden.Rel(v[1], c.Loss[k]), Is.LessThanOrEqualTo(c.F32 ? 1e-5 : 1e-12), $"loss at step {k}");
        }
    }

    [TestCase("optim run --optimizer nope --function rosenbrock --start 0,0 --steps 1", "unknown optimizer 'nope'; known: sgd, adam")]
    [TestCase("optim run --optimizer adam --function nope --start 0,0 --steps 1", "unknown function 'nope'")]
    [TestCase("optim run --optimizer sgd:lr=-1 --function quadratic --start 0,0 --steps 1", "Invalid learning rate: -1.0")]
    [TestCase("optim run --optimizer adam:foo=1 --function quadratic --start 0,0 --steps 1", "optimizer 'adam' has no option 'foo'; it takes: lr, beta1, beta2, eps, weight_decay, amsgrad, maximize")]
    [TestCase("optim run --optimizer adam:eps --function quadratic --start 0,0 --steps 1", "option 'eps' needs a value")]
    [TestCase("optim run --optimizer adam:amsgrad=maybe --function quadratic --start 0,0 --steps 1", "option 'amsgrad': 'maybe' is not true or false")]
    [TestCase("optim run --optimizer adam --function quadratic --start 0 --steps 1", "--start: expected X,Y")]
    [TestCase("optim run --optimizer adam --function quadratic --start 0,0 --steps -1", "--steps")]
    [TestCase("optim run --optimizer adam --function quadratic --start 0,0 --steps 1 --lr -0.1", "Invalid learning rate: -0.1")]
    [TestCase("optim run --optimizer adam --function quadratic --start 0,0 --steps 1 --beta1 x", "is not a number")]
    [TestCase("optim run --optimizer adam --function quadratic --start 0,0 --steps 1 --alpha 2", "--alpha does not apply to adam; adam takes: --lr, --beta1, --beta2, --eps, --weight-decay, --amsgrad, --maximize")]
    [TestCase("optim plot --optimizer adam --optimizer sgd --function quadratic --start 0,0 --steps 1 --out x.png --alpha 2", "--alpha applies to none of adam, sgd")]
    [TestCase("optim run --optimizer adam --function quadratic --start 0,0 --steps 1 --bogus 2", "unknown option '--bogus'")]
    [TestCase("optim run --optimizer adam --function quadratic --start 0,0 --steps 1 --dtype float16", "--dtype")]
    public void BadInputIsOneLineOnStderrWithExitCode2(string cmdline, string message)
    {
        var (rc, stdout, err) = Tiny(cmdline.Split(' '));
        Assert.That(rc, Is.EqualTo(2));
        Assert.That(err, Does.Contain(message));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(stdout, Is.Empty);
    }

    [Test]
    public void NegativeValuesAreValuesAndOutWritesAFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"tiny_optim_{Guid.NewGuid():N}.csv");
        var (rc, stdout, err) = Tiny("optim", "run", "--optimizer", "adamw", "--function", "himmelblau", "--start", "-1.5,-2", "--steps", "5",
                                     "--weight-decay", "-0", "--lr", "0.1", "--out", file);
        Assert.That(rc, Is.EqualTo(0), err);
        var lines = File.ReadAllLines(file);
        File.Delete(file);
        Assert.That(lines, Has.Length.EqualTo(7));
        Assert.That(lines[1], Does.StartWith("0,").And.EndWith(",-1.5,-2"));
        Assert.That(stdout, Is.Empty);
    }

    [Test]
    public void PlotWritesAPng()
    {
        var file = Path.Combine(Path.GetTempPath(), $"tiny_optim_{Guid.NewGuid():N}.png");
        var (rc, _, err) = Tiny("optim", "plot", "--function", "himmelblau", "--start", "-1,-1", "--steps", "50",
                                "--optimizer", "adam:lr=0.1", "--optimizer", "alphagrad:alpha=2,lr=0.05,momentum=0.9", "--out", file);
        Assert.That(rc, Is.EqualTo(0), err);
        var bytes = File.ReadAllBytes(file);
        File.Delete(file);
        Assert.That(bytes.Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
    }

    /// <summary>The optimizer's state buffers (as text) after 30 steps on the quadratic from RunArgs' start, with key=value set.</summary>
    private static string StateAfter(string name, string[] baseline, string? key, string? value)
    {
        var options = new Dictionary<string, string>();
        for (int i = 0; i + 1 < baseline.Length; i += 2) options[baseline[i].TrimStart('-')] = baseline[i + 1];
        if (key is not null) options[key] = value!;
        var p = Tensor.FromArray(new[] { -1.2, 1.0 }, 2);
        p.RequiresGrad = true;
        var opt = global::Tiny.Optim.Optimizers.Create(name, [p], options);
        for (int k = 0; k < 30; k++)
        {
            opt.ZeroGrad();
            global::Tiny.Optim.TestFunctions.Evaluate("quadratic", p).Backward();   // stays finite with every default lr
            opt.Step();
        }
        return string.Join(";", opt.StateDict().State.SelectMany(e => e.Buffers.OrderBy(b => b.Key)
            .Select(b => b.Key + "=" + string.Join(",", b.Value.Select(x => x.ToString("R", CultureInfo.InvariantCulture))))));   // inf-safe
    }

    private static string[] OnBeale(string[] args) => args.Select(a => a == "rosenbrock" ? "beale" : a).ToArray();

    private static string[] RunArgs(string optimizer, params string[] extra) =>
        ["optim", "run", "--optimizer", optimizer, "--function", "rosenbrock", "--start", "-1.2,1", "--steps", "30", .. extra];

    private static string Csv(params string[] args)
    {
        var (rc, stdout, err) = Tiny(args);
        Assert.That(rc, Is.EqualTo(0), $"{string.Join(' ', args)}: {err}");
        Assert.That(stdout, Does.StartWith("step,loss,x0,x1"));
        return stdout;
    }

    [Test]
    public void SgdRunsWithoutLrAtThePlaygroundDefault()
    {
        var csv = Csv(RunArgs("sgd"));
        Assert.That(csv, Is.EqualTo(Csv(RunArgs("sgd", "--lr", "0.001"))));
        Assert.That(csv, Is.EqualTo(Csv(RunArgs("sgd:lr=1e-3"))));
        Assert.That(csv, Is.Not.EqualTo(Csv(RunArgs("sgd", "--lr", "0.002"))));
        // Step 1 by hand: grad of rosenbrock at (-1.2, 1) is (-215.6, -88).
        var row1 = csv.Split('\n')[2].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.That(row1[2], Is.EqualTo(-1.2 + 1e-3 * 215.6).Within(1e-12));
        Assert.That(row1[3], Is.EqualTo(1 + 1e-3 * 88).Within(1e-12));
    }

    // Every key of every registered optimizer is a flag of `tiny optim run`, equal to the spec's key=value, and (all
    // but booleans) changes the trajectory. Momentum is set in the baseline where taken, so dampening and nesterov act.
    [TestCaseSource(typeof(RegistryTests), nameof(RegistryTests.Names))]
    public void EveryOptionIsAFlagThatActs(string name)
    {
        var info = global::Tiny.Optim.Optimizers.Info(name);
        string[] baseline = info.Find("momentum") is null ? [] : ["--momentum", "0.5"];
        string reference = Csv(RunArgs(name, baseline));
        // A second baseline with 100x the default lr, where an option can only show once steps are large (Lion's beta1
        // only moves the sign of its update when the iterate oscillates).
        string[] bigSteps = [.. baseline, "--lr", global::Tiny.Optim.Optimizers.Format((double)info.Find("lr")!.Default * 100)];
        string referenceBig = Csv(RunArgs(name, bigSteps));
        string referenceBeale = Csv(OnBeale(RunArgs(name, baseline)));   // a third landscape: ADOPT's clip binds on beale
        foreach (var o in info.Options)
        {
            if (o.Key == "momentum") continue;
            bool acted = o.IsBool, valid = false;
            // Values around the default (RegistryTests.Candidates); those the optimizer rejects are skipped, and one valid
            // value must act (Rprop's step sizes bound [1e-6, 50] bind only when the steps get that small or large).
            foreach (var candidate in RegistryTests.Candidates(o))
            {
                string value = global::Tiny.Optim.Optimizers.Format(candidate);
                string[] flag = candidate is false ? [o.Flag, "false"] : o.IsBool ? [o.Flag] : [o.Flag, value];   // a bare flag means true
                var (rc, viaFlag, err) = Tiny(RunArgs(name, [.. baseline, .. flag]));
                if (rc == 2 && err.Contains("Invalid")) continue;
                Assert.That(rc, Is.EqualTo(0), $"{name} {o.Flag} {value}: {err}");
                valid = true;
                Assert.That(viaFlag, Is.EqualTo(Csv(RunArgs($"{name}:{o.Key}={value}", baseline))), $"{name} {o.Flag}");
                // An option may act on the state only (ASGD's t0: when averaging starts), or only with larger steps.
                acted |= viaFlag != reference || StateAfter(name, baseline, o.Key, value) != StateAfter(name, baseline, null, null)
                         || o.Key != "lr" && Csv(RunArgs(name, [.. bigSteps, .. flag])) != referenceBig
                         || Csv(OnBeale(RunArgs(name, [.. baseline, .. flag]))) != referenceBeale;
                if (acted) break;
            }
            Assert.That(valid, $"{name} {o.Flag}: some value near the default is valid");
            Assert.That(acted, $"{name} {o.Flag} changes the trajectory or the optimizer's state");
        }
        if (info.Find("momentum") is not null)
            Assert.That(Csv(RunArgs(name, "--momentum", "0.25")), Is.Not.EqualTo(reference), $"{name} --momentum");
    }

    /// <summary>The playground draws every registered optimizer at once, a diverging path (schedule-free SGD's lr 1 on
    /// rosenbrock leaves the plane at step 2) cut where it leaves and labelled, instead of failing the plot.</summary>
    [Test]
    public void PlotDrawsEveryOptimizerAndSurvivesDivergence()
    {
        var file = Path.Combine(Path.GetTempPath(), $"tiny_optim_all_{Guid.NewGuid():N}.png");
        try
        {
            string[] args = ["optim", "plot", "--function", "rosenbrock", "--start", "-1.2,1", "--steps", "50", "--out", file,
                             .. global::Tiny.Optim.Optimizers.Names.SelectMany(n => new[] { "--optimizer", n })];
            var (rc, _, err) = Tiny(args);
            Assert.That(rc, Is.EqualTo(0), err);
            Assert.That(File.ReadAllBytes(file).AsSpan(1, 3).ToArray(), Is.EqualTo("PNG"u8.ToArray()));
        }
        finally { File.Delete(file); }
    }

    /// <summary>On a platform without SkiaSharp's native library the plot fails as one line (exit 2): what SkiaSharp
    /// throws there is recognised, through ScottPlot's type initializers too; other failures are not.</summary>
    [Test]
    public void MissingSkiaNativeLibraryIsRecognised()
    {
        var dll = new DllNotFoundException("Unable to load shared library 'libSkiaSharp' or one of its dependencies.");
        Assert.That(OptimPlot.IsMissingNative(dll), Is.True);
        Assert.That(OptimPlot.IsMissingNative(new TypeInitializationException("SkiaSharp.SKObject", dll)), Is.True);
        Assert.That(OptimPlot.IsMissingNative(new TypeInitializationException("ScottPlot.Fonts", new TypeInitializationException("SkiaSharp.SKTypeface", null))), Is.True);
        Assert.That(OptimPlot.IsMissingNative(new TypeInitializationException("ScottPlot.Fonts", new InvalidOperationException("no font"))), Is.False);
        Assert.That(OptimPlot.IsMissingNative(new IOException("disk full")), Is.False);
        Assert.That(OptimPlot.NoNativeLibrary, Does.Not.Contain("\n"));
    }

    /// <summary>--lookahead K[,ALPHA] is the spec keys lookahead_k and lookahead_alpha, and wraps the optimizer.</summary>
    [Test]
    public void LookaheadFlagWrapsTheOptimizer()
    {
        string plain = Csv(RunArgs("adam"));
        string viaFlag = Csv(RunArgs("adam", "--lookahead", "5,0.5"));
        Assert.That(viaFlag, Is.EqualTo(Csv(RunArgs("adam:lookahead_k=5,lookahead_alpha=0.5"))));
        Assert.That(viaFlag, Is.Not.EqualTo(plain), "the slow weights pull the iterate back every 5 steps");
        Assert.That(Tiny(RunArgs("adam", "--lookahead", "0")).Err, Does.Contain("--lookahead: '0'"));
    }

    [Test]
    public void HelpListsEveryOptimizerWithItsFlagsAndDefaults()
    {
        var (rc, stdout, _) = Tiny("optim", "--help");
        Assert.That(rc, Is.EqualTo(0));
        var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        foreach (var name in global::Tiny.Optim.Optimizers.Names)
        {
            int at = lines.FindIndex(l => l.StartsWith($"  {name} "));
            Assert.That(at, Is.GreaterThanOrEqualTo(0), name);
            foreach (var o in global::Tiny.Optim.Optimizers.Info(name).Options)
                Assert.That(lines[at + 1], Does.Contain($"{o.Flag} {o.DefaultText}"), $"{name} {o.Flag}");
        }
        Assert.That(Tiny("optim", "run", "--optimizer", "adam", "--help").Out, Is.EqualTo(stdout));
    }

    [Test]
    public void PlotAppliesAFlagToEachOptimizerThatTakesIt()
    {
        var file = Path.Combine(Path.GetTempPath(), $"tiny_optim_{Guid.NewGuid():N}.png");
        var (rc, _, err) = Tiny("optim", "plot", "--function", "rosenbrock", "--start", "-1.2,1", "--steps", "20",
                                "--optimizer", "sgd", "--optimizer", "alphagrad:alpha=2", "--momentum", "0.9", "--amsgrad", "--optimizer", "adam", "--out", file);
        Assert.That(rc, Is.EqualTo(0), err);
        Assert.That(File.Exists(file));
        File.Delete(file);
    }
}
