// CliRunFixture: what the tests that train through the `tiny` command share: fresh run folders removed after each
// test, and the command run in-process (train with a cancellation token, as Ctrl-C would stop it).
using NUnit.Framework;
using Tiny.Cli;

namespace Tiny.Tests.Rl;

public abstract class CliRunFixture(string prefix)
{
    private readonly List<string> _dirs = [];

    /// <summary>A fresh folder path under the temp folder (not created), removed after the test.</summary>
    protected string Dir()
    {
        string d = Path.Combine(Path.GetTempPath(), $"tiny-{prefix}-" + Guid.NewGuid().ToString("N"));
        _dirs.Add(d);
        return d;
    }

    [TearDown]
    public void RemoveDirs()
    {
        foreach (var d in _dirs) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
    }

    /// <summary>`tiny args...` in-process; `train` gets ct (cancelling it stops the run as a signal would).</summary>
    protected static (int Code, string Out, string Err) Tiny(CancellationToken ct, params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = args[0] == "train" ? TrainCommand.Run(args[1..], o, e, ct) : Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
