// InternalsLog: a run's internals.csv (`tiny train ... --internals [every=N]`): a recorder on each of the agent's
// optimizers, rows streamed to disk as they come, and the file kept consistent with the run's checkpoints.
using System.Globalization;
using System.Text.Json.Nodes;
using Tiny.Optim;
using Tiny.Rl;

namespace Tiny.Cli;

/// <summary>
/// Writes RUN/internals.csv in long format (step,tensor,metric,value; step: env steps when the update ran) while a run
/// trains: rows go to internals.csv.part as they are recorded and the file is renamed into place when the run's
/// outputs are written. A checkpoint records, in internals.json, the bytes written so far and each recorder's update
/// count; a resumed run cuts the file back to those bytes and counts on from there, so its internals.csv holds the
/// rows the uninterrupted run would have written (whatever a killed run wrote past its checkpoint is dropped).
/// </summary>
internal sealed class InternalsLog : IDisposable
{
    /// <summary>The run folder's file of internals.</summary>
    public const string FileName = "internals.csv";
    /// <summary>The recorders' state in a checkpoint folder.</summary>
    public const string StateFile = "internals.json";
    /// <summary>Updates between records when --internals gives no number.</summary>
    public const int DefaultEvery = 10;

    private readonly string _part, _done;
    private readonly FileStream _file;
    private readonly StreamWriter _writer;
    private readonly List<(string Name, InternalsRecorder Recorder)> _recorders = [];
    private bool _finished;

    private InternalsLog(string outDir, FileStream file, int every)
    {
        (_part, _done, _file, Every) = (Path.Combine(outDir, FileName + ".part"), Path.Combine(outDir, FileName), file, every);
        _writer = new StreamWriter(file, bufferSize: 1 << 16) { NewLine = "\n" };
    }

    /// <summary>Updates between records.</summary>
    public int Every { get; }

    /// <summary>--internals every=N, every:N or N (bare: <see cref="DefaultEvery"/>), or a CliError.</summary>
    public static int ParseEvery(string? text)
    {
        if (string.IsNullOrEmpty(text)) return DefaultEvery;
        string n = text.StartsWith("every=", StringComparison.Ordinal) || text.StartsWith("every:", StringComparison.Ordinal) ? text[6..] : text;
        return int.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
            : throw new CliError($"--internals: '{text}' is not every=N with N a positive integer (updates between records; bare --internals: every={DefaultEvery})");
    }

    /// <summary>Starts recording the agent's optimizers every N updates into outDir, or (checkpoint given and holding
    /// <see cref="StateFile"/>) continues the recording of the run it resumes; null when the run records none. A new run
    /// removes an internals.csv left in outDir by an earlier run (--force).</summary>
    public static InternalsLog? Start(int? every, IAgent agent, string outDir, string? checkpoint)
    {
        string part = Path.Combine(outDir, FileName + ".part"), done = Path.Combine(outDir, FileName);
        JsonObject? saved = null;
        if (checkpoint is not null && File.Exists(Path.Combine(checkpoint, StateFile)))
            saved = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, StateFile))) as JsonObject
                    ?? throw new CliError($"{Path.Combine(checkpoint, StateFile)} is not a JSON object");
        if (checkpoint is null)
            foreach (var stale in new[] { part, done }) if (File.Exists(stale)) File.Delete(stale);
        if (saved is null && (every is null || checkpoint is not null)) return null;

        FileStream file;
        InternalsLog log;
        if (saved is not null)
        {
            // The rows up to the checkpoint: from the .part a killed run left, else from the internals.csv a stopped one wrote.
            long bytes = StateJson.Long(saved, "bytes");
            if (!File.Exists(part))
            {
                if (!File.Exists(done)) throw new CliError($"--resume: the run records its internals, but {done} is missing");
                File.Move(done, part);
            }
            file = new FileStream(part, FileMode.Open, FileAccess.Write);
            if (file.Length < bytes) { file.Dispose(); throw new CliError($"--resume: {FileName} holds {file.Length} bytes, its checkpoint counted {bytes}"); }
            file.SetLength(bytes);
            file.Seek(0, SeekOrigin.End);
            log = new InternalsLog(outDir, file, StateJson.Int(saved, "every"));
        }
        else
        {
            file = new FileStream(part, FileMode.Create, FileAccess.Write);
            log = new InternalsLog(outDir, file, every!.Value);
            log._writer.Write("step,tensor,metric,value\n");
        }
        var names = agent.NamedParameters().ToList();
        var updates = saved?["updates"] as JsonObject;
        foreach (var (name, optimizer) in agent.Optimizers)
        {
            var recorder = new InternalsRecorder(optimizer, log.Every, names, log.Write) { Clock = () => agent.GlobalStep };
            if (updates is not null) recorder.Updates = StateJson.Long(updates, name);
            log._recorders.Add((name, recorder));
        }
        return log;
    }

    /// <summary>One row, formatted into a reused buffer (no string per number): step,tensor,metric,value with the value
    /// written to round-trip (NaN and infinities as such).</summary>
    private void Write(InternalsRow r)
    {
        var inv = CultureInfo.InvariantCulture;
        Span<char> number = stackalloc char[32];
        r.Step.TryFormat(number, out int n, default, inv);
        _writer.Write(number[..n]);
        _writer.Write(',');
        _writer.Write(r.Tensor);
        _writer.Write(',');
        _writer.Write(r.Metric);
        _writer.Write(',');
        r.Value.TryFormat(number, out n, "R", inv);
        _writer.Write(number[..n]);
        _writer.Write('\n');
    }

    /// <summary>Writes <see cref="StateFile"/> into a checkpoint being written: the rows' bytes so far (flushed) and each
    /// recorder's update count.</summary>
    public void Save(string checkpointDir)
    {
        _writer.Flush();
        var updates = new JsonObject();
        foreach (var (name, r) in _recorders) updates[name] = r.Updates;
        var o = new JsonObject { ["every"] = Every, ["bytes"] = _file.Length, ["updates"] = updates };
        File.WriteAllText(Path.Combine(checkpointDir, StateFile), o.ToJsonString());
    }

    /// <summary>What recording cost this session (records and time, all optimizers) against its training seconds:
    /// "internals 4900 records 0.3s (+2.5%)", the share being the recording time over the rest of training.</summary>
    public string Cost(double trainingSeconds)
    {
        long records = _recorders.Sum(r => r.Recorder.Records);
        double t = _recorders.Sum(r => r.Recorder.Elapsed.TotalSeconds);
        return $"internals {records} records {t:F2}s (+{100 * t / Math.Max(trainingSeconds - t, 1e-9):F1}%)";
    }

    /// <summary>Stops recording and renames the rows into place as internals.csv; returns that name.</summary>
    public string Finish()
    {
        Dispose();
        File.Move(_part, _done, overwrite: true);
        _finished = true;
        return FileName;
    }

    /// <summary>Stops recording and closes the file (left as internals.csv.part unless <see cref="Finish"/>ed).</summary>
    public void Dispose()
    {
        if (_finished) return;
        foreach (var (_, r) in _recorders) r.Dispose();
        _writer.Dispose();
    }
}
