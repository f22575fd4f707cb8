// `tiny optim page` and `tiny optim plot`'s panels: the page's numbers against direct computations from the
// optimizers' definitions, its sweep grid and bad input; then the page in a real headless Chromium (no console errors,
// no network, the slider and the setting buttons change what is drawn, a screenshot that is not blank).
using System.Globalization;
using System.Text.Json.Nodes;
using NUnit.Framework;
using SkiaSharp;
using Tiny.Cli;

namespace Tiny.Tests.Optim;

public sealed class OptimPageTests
{
    private static (int Rc, string Out, string Err) Tiny(params string[] args) => OptimCliTests.Tiny(args);

    /// <summary>`tiny optim page args... --out TEMP`: the page's JSON and what the command printed.</summary>
    private static (JsonNode Data, string Stdout) Page(params string[] args)
    {
        string file = TempFile("html");
        var (rc, stdout, err) = Tiny(["optim", "page", .. args, "--out", file]);
        Assert.That(rc, Is.EqualTo(0), err);
        string html = File.ReadAllText(file);
        File.Delete(file);
        Assert.That(html, Does.Not.Contain("src=").And.Not.Contain("href=\"http"), "no external script or style");
        return (Data(html), stdout);
    }

    /// <summary>The JSON the page carries (the data script's text).</summary>
    internal static JsonNode Data(string html)
    {
        const string open = "<script id=\"data\" type=\"application/json\">";
        int start = html.IndexOf(open, StringComparison.Ordinal) + open.Length;
        return JsonNode.Parse(html[start..html.IndexOf("</script>", start, StringComparison.Ordinal)])!;
    }

    private static double D(JsonNode? n) => n!.GetValueKind() == System.Text.Json.JsonValueKind.String
        ? double.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture) : n.GetValue<double>();

    private static string TempFile(string ext) => Path.Combine(Path.GetTempPath(), $"tiny_page_{Guid.NewGuid():N}.{ext}");

    [Test]
    public void PageCarriesTheOptimizersOwnStepsStateAndInternals()
    {
        var (d, stdout) = Page("--function", "rosenbrock", "--optimizer", "adam:lr=0.05", "--optimizer", "alphagrad:alpha=2,lr=0.01", "--steps", "3");
        Assert.That(stdout, Does.Contain("9 settings x 2 optimizers x 3 steps"));
        Assert.That(d["initial"]!.GetValue<int>(), Is.EqualTo(4), "lr 1x, alpha 1x: the middle of the 3 x 3 grid");
        var runs = d["settings"]![4]!["runs"]!;
        var adam = runs[0]!;
        var alpha = runs[1]!;
        Assert.That(adam["spec"]!.GetValue<string>(), Is.EqualTo("adam:lr=0.05"));

        // Rosenbrock at the start (-1.2, 1): g = (-2(1-x) - 400x(y-x^2), 200(y-x^2)) = (-215.6, -88).
        double[] g = [-215.6, -88];
        double gn = Math.Sqrt(g[0] * g[0] + g[1] * g[1]);
        for (int i = 0; i < 2; i++)
        {
            Assert.That(D(adam["grad"]![0]![i]), Is.EqualTo(g[i]).Within(1e-4).Percent);
            Assert.That(D(alpha["grad"]![0]![i]), Is.EqualTo(g[i]).Within(1e-4).Percent);
            // Adam's first step (torch.optim.Adam): m = (1-b1) g, v = (1-b2) g^2, Δ = -lr m̂/(√v̂+eps) = -lr g/(|g|+eps).
            Assert.That(D(adam["buffers"]!["exp_avg"]![0]![i]), Is.EqualTo(0.1 * g[i]).Within(1e-4).Percent);
            Assert.That(D(adam["buffers"]!["exp_avg_sq"]![0]![i]), Is.EqualTo(0.001 * g[i] * g[i]).Within(1e-4).Percent);
            Assert.That(D(adam["update"]![0]![i]), Is.EqualTo(-0.05 * g[i] / (Math.Abs(g[i]) + 1e-8)).Within(1e-4).Percent);
            Assert.That(D(adam["lrEff"]![0]![i]), Is.EqualTo(0.05 / (Math.Abs(g[i]) + 1e-8)).Within(1e-4).Percent);
            // AlphaGrad (no momentum): Δ = -lr tanh(alpha g/(||g||+eps)).
            Assert.That(D(alpha["update"]![0]![i]), Is.EqualTo(-0.01 * Math.Tanh(2 * g[i] / (gn + 1e-8))).Within(1e-4).Percent);
        }
        Assert.That(D(adam["x"]![1]), Is.EqualTo(-1.15).Within(1e-6));
        Assert.That(D(adam["y"]![1]), Is.EqualTo(1.05).Within(1e-6));
        Assert.That(adam["stateStep"]![2]!.GetValue<long>(), Is.EqualTo(3));
        Assert.That(D(adam["metrics"]!["bias_correction1"]![0]), Is.EqualTo(0.1).Within(1e-9));
        Assert.That(D(adam["metrics"]!["bias_correction2"]![1]), Is.EqualTo(1 - 0.999 * 0.999).Within(1e-9));
        Assert.That(D(adam["metrics"]!["update_norm"]![0]), Is.EqualTo(0.05 * Math.Sqrt(2)).Within(1e-4).Percent);
        Assert.That(D(adam["metrics"]!["grad_norm"]![0]), Is.EqualTo(gn).Within(1e-4).Percent);
        // |tanh(2 g_i/||g||)| = (0.952, 0.639): one of the two components above 0.9; the largest argument 2*215.6/||g||.
        Assert.That(D(alpha["metrics"]!["saturated"]![0]), Is.EqualTo(0.5));
        Assert.That(D(alpha["metrics"]!["tanh_arg_max"]![0]), Is.EqualTo(2 * 215.6 / gn).Within(1e-4).Percent);
        Assert.That(alpha["buffers"]!.AsObject(), Is.Empty, "AlphaGrad without momentum keeps no state");

        // The whole path is `tiny optim run`'s (itself held to PyTorch's trajectories), to the 7 digits the page keeps.
        var rows = OptimCommand.Trajectory("adam", new Dictionary<string, string> { ["lr"] = "0.05" }, "rosenbrock", [-1.2, 1], 3, false);
        for (int k = 0; k <= 3; k++)
        {
            Assert.That(D(adam["x"]![k]), Is.EqualTo(rows[k].X0).Within(1e-4).Percent);
            Assert.That(D(adam["loss"]![k]), Is.EqualTo(rows[k].Loss).Within(1e-4).Percent);
        }

        // The grid: setting 6 is lr 2x (first sweep, most significant) and alpha 0.5x.
        var s6 = d["settings"]![6]!;
        Assert.That(s6["choice"]!.AsArray().Select(c => c!.GetValue<int>()), Is.EqualTo(new[] { 2, 0 }));
        Assert.That(s6["runs"]![0]!["spec"]!.GetValue<string>(), Is.EqualTo("adam:lr=0.1"));
        Assert.That(s6["runs"]![1]!["spec"]!.GetValue<string>(), Is.EqualTo("alphagrad:lr=0.02,alpha=1"));

        // The heatmap's row 0 is the top of the view: cell (0, 0) is log10 f at the top-left cell's centre.
        var view = d["view"]!.AsArray().Select(D).ToArray();
        int n = d["heatCells"]!.GetValue<int>();
        double cx = view[0] + 0.5 * (view[1] - view[0]) / n, cy = view[3] - 0.5 * (view[3] - view[2]) / n;
        double f = Math.Pow(1 - cx, 2) + 100 * Math.Pow(cy - cx * cx, 2);
        Assert.That(D(d["heat"]![0]), Is.EqualTo(Math.Log10(f + 1e-12)).Within(1e-3));
    }

    [Test]
    public void SweepsScaleOrSetTheirKeyOnTheOptimizersThatTakeIt()
    {
        var (d, _) = Page("--function", "quadratic", "--optimizer", "sgd:lr=0.1", "--optimizer", "rmsprop",
                          "--sweep", "momentum=0,0.9", "--sweep", "rmsprop:lr=0.5x,1x", "--steps", "2");
        var specs = d["settings"]!.AsArray().Select(s => string.Join(" ", s!["runs"]!.AsArray().Select(r => r!["spec"]!.GetValue<string>()))).ToArray();
        Assert.That(specs, Is.EqualTo(new[]
        {
            "sgd:lr=0.1,momentum=0 rmsprop:momentum=0,lr=0.005", "sgd:lr=0.1,momentum=0 rmsprop:momentum=0,lr=0.01",
            "sgd:lr=0.1,momentum=0.9 rmsprop:momentum=0.9,lr=0.005", "sgd:lr=0.1,momentum=0.9 rmsprop:momentum=0.9,lr=0.01",
        }));
        Assert.That(d["start"]!.AsArray().Select(D), Is.EqualTo(new[] { 3.0, -2.0 }), "the golden data's start on the quadratic");
        Assert.That(d["initial"]!.GetValue<int>(), Is.EqualTo(3), "momentum's middle value (index 1 of 2: 0.9) and rmsprop lr 1x (index 1)");
    }

    [TestCase("optim page --function nope --optimizer adam --out {file}", "unknown function 'nope'")]
    [TestCase("optim page --function rosenbrock --optimizer nope --out {file}", "unknown optimizer 'nope'")]
    [TestCase("optim page --function rosenbrock --optimizer adam", "--out is required")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out /nonexistent_tiny_dir/x.html", "--out /nonexistent_tiny_dir/x.html: no folder /nonexistent_tiny_dir")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {dir}", "is a folder")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --sweep lr", "--sweep: expected [NAME:]KEY=V1,V2,..., got 'lr'")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --sweep foo=1,2", "--sweep foo=1,2: none of adam takes an option 'foo'")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --sweep nope:lr=1", "unknown optimizer 'nope'")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --sweep alphagrad:alpha=1,2", "no alphagrad on the page")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --sweep amsgrad=2x", "adam's amsgrad is not a real number")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --sweep lr=-0.1", "Invalid learning rate: -0.1")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --sweep lr=1,2,3,4,5,6 --sweep eps=1,2,3,4,5,6,7", "42 settings; at most 36")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --steps 40000", "at most 100000 fit on one page")]
    [TestCase("optim page --function rosenbrock --optimizer adam --out {file} --steps 0", "a page needs at least 1 step")]
    [TestCase("optim plot --function rosenbrock --optimizer adam --steps 3 --out {file}", "--start is required")]
    public void BadInputIsOneLineAndExit2AndWritesNothing(string cmdline, string message)
    {
        string file = TempFile("html");
        var (rc, stdout, err) = Tiny(cmdline.Replace("{file}", file).Replace("{dir}", Path.GetTempPath().TrimEnd('/')).Split(' '));
        Assert.That(rc, Is.EqualTo(2));
        Assert.That(err, Does.Contain(message));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
        Assert.That(stdout, Is.Empty);
        Assert.That(File.Exists(file), Is.False);
    }

    [Test]
    public void PlotDrawsTheLossAndStepLengthPanelsBesideThePaths()
    {
        string file = TempFile("png");
        var (rc, _, err) = Tiny("optim", "plot", "--function", "rosenbrock", "--start", "-1.2,1", "--steps", "60",
                                "--optimizer", "adam:lr=0.05", "--out", file);
        Assert.That(rc, Is.EqualTo(0), err);
        using var png = SKBitmap.Decode(file);
        File.Delete(file);
        Assert.That((png.Width, png.Height), Is.EqualTo((1500, 760)));
        // Adam's colour (Category10 orange, #ff7f0e) appears in the map, the loss panel (upper right) and the step panel
        // (lower right).
        int Orange(int x0, int x1, int y0, int y1)
        {
            int count = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                {
                    var c = png.GetPixel(x, y);
                    if (Math.Abs(c.Red - 0xff) + Math.Abs(c.Green - 0x7f) + Math.Abs(c.Blue - 0x0e) < 40) count++;
                }
            return count;
        }
        Assert.That(Orange(0, 900, 0, 600), Is.GreaterThan(50), "the path");
        Assert.That(Orange(900, 1500, 0, 380), Is.GreaterThan(50), "the loss curve");
        Assert.That(Orange(900, 1500, 380, 760), Is.GreaterThan(50), "the step-length curve");
    }
}

/// <summary>The page in a real browser: Debian's chromium, headless, driven over the DevTools protocol (skipped,
/// saying why, where it is not installed).</summary>
[NonParallelizable]
public sealed class OptimPageBrowserTests
{
    private HeadlessChromium? _browser;
    private string _page = "";

    private HeadlessChromium Browser => _browser!;

    [OneTimeSetUp]
    public void Open()
    {
        string exe = HeadlessChromium.Find()
            ?? throw new IgnoreException("chromium is not installed: the page's browser tests need it (apt-get install -y chromium, as .ci/run does)");
        _page = Path.Combine(Path.GetTempPath(), $"tiny_page_{Guid.NewGuid():N}.html");
        var (rc, _, err) = OptimCliTests.Tiny("optim", "page", "--function", "rosenbrock", "--optimizer", "adam:lr=0.05",
                                               "--optimizer", "alphagrad:alpha=2,lr=0.01,momentum=0.9", "--steps", "40", "--out", _page);
        Assert.That(rc, Is.EqualTo(0), err);
        _browser = HeadlessChromium.Start(exe, 1240, 1300);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _browser?.Dispose();
        if (File.Exists(_page)) File.Delete(_page);
    }

    /// <summary>Each test starts from the page as opened, with no errors or requests seen yet.</summary>
    [SetUp]
    public void Load()
    {
        Browser.Errors.Clear();
        Browser.Requests.Clear();
        Browser.Navigate(new Uri(_page).AbsoluteUri);
        Assert.That(Browser.Evaluate("window.tinyPageReady === true").GetBoolean(), Is.True, string.Join("\n", Browser.Errors));
    }

    [TearDown]
    public void NoErrors() => Assert.That(Browser.Errors, Is.Empty, "console errors or exceptions");

    private string Drawn() => Browser.Evaluate(
        "['map', 'loss', 'steps'].map(id => document.getElementById(id).toDataURL()).join('|') + '|' + document.getElementById('internals').innerText").GetString()!;

    [Test]
    public void LoadsOfflineWithNoConsoleErrors()
    {
        Assert.That(Browser.Requests.Where(u => !u.StartsWith("file:", StringComparison.Ordinal) && !u.StartsWith("data:", StringComparison.Ordinal)), Is.Empty,
                    "the page asks the network for nothing");
        Assert.That(Browser.Evaluate("document.getElementById('steplabel').textContent").GetString(), Is.EqualTo("40 / 40"));
    }

    [Test]
    public void SliderMovesEveryPathAndShowsThatStepsInternals()
    {
        string before = Drawn();
        Browser.Evaluate("(() => { const s = document.getElementById('step'); s.value = 5; s.dispatchEvent(new Event('input', { bubbles: true })); })()");
        string after = Drawn();
        var (b, a) = (before.Split('|'), after.Split('|'));
        Assert.That(a[0], Is.Not.EqualTo(b[0]), "the map (paths drawn up to the step, markers, arrows)");
        Assert.That(a[1], Is.Not.EqualTo(b[1]), "the loss panel's cursor");
        Assert.That(a[3], Does.Contain("step 5: the update from x_4 to x_5"));
        // Adam's x_5 as `tiny optim run` computes it, shown to 4 digits.
        var rows = OptimCommand.Trajectory("adam", new Dictionary<string, string> { ["lr"] = "0.05" }, "rosenbrock", [-1.2, 1], 5, false);
        string x5 = $"[{rows[5].X0.ToString("G4", CultureInfo.InvariantCulture)}, {rows[5].X1.ToString("G4", CultureInfo.InvariantCulture)}]";
        Assert.That(a[3], Does.Contain(x5));
        Assert.That(a[3], Does.Contain("saturated").And.Contain("momentum_buffer").And.Contain("exp_avg_sq").And.Contain("step_p50"));
    }

    [Test]
    public void SettingButtonsSwitchToAnotherPrecomputedRun()
    {
        string before = Drawn();
        Browser.Evaluate("document.querySelector('.sweep button[data-sweep=\"0\"][data-value=\"2\"]').click()");   // lr 2x
        string after = Drawn();
        Assert.That(after.Split('|')[0], Is.Not.EqualTo(before.Split('|')[0]));
        Assert.That(after.Split('|')[3], Does.Contain("adam:lr=0.1").And.Contain("lr=0.02"));
    }

    [Test]
    public void ScreenshotIsNotBlank()
    {
        using var shot = SKBitmap.Decode(Browser.Screenshot());
        Assert.That((shot.Width, shot.Height), Is.EqualTo((1240, 1300)));
        // The map (at about x 20-680, y 170-730 on this layout) holds the heatmap's many colours; count them over a grid.
        var colours = new HashSet<uint>();
        for (int y = 0; y < shot.Height; y += 4)
            for (int x = 0; x < shot.Width; x += 4)
                colours.Add((uint)shot.GetPixel(x, y));
        Assert.That(colours, Has.Count.GreaterThan(200), "a page of one colour, or only text");
    }
}
