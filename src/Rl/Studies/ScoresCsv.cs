// ScoresCsv: reads a study's scores from an `algorithm,task,run,score` CSV into a ScoreTable, rejecting a bad row
// with a one-line message that names its line.
using System.Globalization;

namespace Tiny.Rl.Studies;

/// <summary>
/// Every algorithm's scores on the same tasks. Algorithms keep the order of their first row in the file; tasks are in
/// ordinal order and each task's runs in run order (numeric when both ids are integers), so the statistics and their
/// bootstrap draws depend only on the set of rows, not on their order.
/// </summary>
public sealed class ScoreTable
{
    private readonly Dictionary<string, double[][]> _scores;

    internal ScoreTable(IReadOnlyList<string> algorithms, IReadOnlyList<string> tasks, Dictionary<string, double[][]> scores) =>
        (Algorithms, Tasks, _scores) = (algorithms, tasks, scores);

    /// <summary>Algorithm names, in the order they first appear.</summary>
    public IReadOnlyList<string> Algorithms { get; }

    /// <summary>Task names, in ordinal order.</summary>
    public IReadOnlyList<string> Tasks { get; }

    /// <summary>An algorithm's scores grouped by task: [t][r] is run r of <see cref="Tasks"/>[t].</summary>
    public double[][] this[string algorithm] => _scores[algorithm];
}

/// <summary>
/// The CSV format of a study's scores: a header line <c>algorithm,task,run,score</c>, then one row per run, fields
/// separated by commas (no quoting, so names hold no commas), numbers in the invariant culture, blank lines
/// ignored. Run counts may differ between tasks and algorithms, but every algorithm needs every task.
/// </summary>
public static class ScoresCsv
{
    /// <summary>The required header.</summary>
    public const string Header = "algorithm,task,run,score";

    /// <summary>Reads <paramref name="path"/>; a bad file throws <see cref="InvalidDataException"/> with a one-line
    /// message naming the file and line.</summary>
    public static ScoreTable Read(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses CSV text; <paramref name="name"/> starts every error message.</summary>
    public static ScoreTable Parse(TextReader reader, string name)
    {
        string? header = reader.ReadLine();
        if (header is null) throw Bad(name, 1, $"empty file; expected the header '{Header}'");
        if (!string.Equals(string.Join(',', header.Split(',').Select(f => f.Trim())), Header, StringComparison.OrdinalIgnoreCase))
            throw Bad(name, 1, $"expected the header '{Header}', got '{Short(header)}'");

        var algorithms = new List<string>();
        var rows = new Dictionary<string, Dictionary<string, List<(string Run, double Score)>>>(StringComparer.Ordinal);
        var seen = new Dictionary<(string, string, string), int>();
        string? line;
        int lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var f = line.Split(',');
            if (f.Length != 4) throw Bad(name, lineNo, $"expected 4 fields ({Header}), got {f.Length}: '{Short(line)}'");
            for (int i = 0; i < 4; i++)
            {
                f[i] = f[i].Trim();
                if (f[i].Length == 0) throw Bad(name, lineNo, $"empty {Column(i)}");
                if (f[i].Contains('"')) throw Bad(name, lineNo, $"quoted fields are not supported ({Column(i)} {f[i]})");
            }
            string alg = f[0], task = f[1], run = f[2];
            double score = ParseScore(name, lineNo, f[3]);
            if (seen.TryGetValue((alg, task, run), out int first))
                throw Bad(name, lineNo, $"duplicate (algorithm, task, run) = ({alg}, {task}, {run}), first on line {first}");
            seen[(alg, task, run)] = lineNo;
            if (!rows.TryGetValue(alg, out var byTask)) { rows[alg] = byTask = new(StringComparer.Ordinal); algorithms.Add(alg); }
            if (!byTask.TryGetValue(task, out var runs)) byTask[task] = runs = [];
            runs.Add((run, score));
        }
        if (algorithms.Count == 0) throw new InvalidDataException($"{name}: no scores after the header");

        var tasks = rows.Values.SelectMany(t => t.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var table = new Dictionary<string, double[][]>(StringComparer.Ordinal);
        foreach (string alg in algorithms)
        {
            var byTask = rows[alg];
            var missing = tasks.Where(t => !byTask.ContainsKey(t)).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{name}: algorithm '{alg}' has no scores for task{(missing.Count > 1 ? "s" : "")} " +
                    $"{string.Join(", ", missing.Select(t => $"'{t}'"))}; every algorithm needs every task");
            table[alg] = tasks.Select(t => byTask[t].Order(RunOrder.Instance).Select(r => r.Score).ToArray()).ToArray();
        }
        return new ScoreTable(algorithms, tasks, table);
    }

    private static double ParseScore(string name, int lineNo, string s)
    {
        string lower = s.ToLowerInvariant().TrimStart('+', '-');
        if (lower is "nan" or "inf" or "infinity" or "∞")
            throw Bad(name, lineNo, $"score '{s}' is not finite");
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            throw Bad(name, lineNo, $"score '{Short(s)}' is not a number");
        if (!double.IsFinite(v)) throw Bad(name, lineNo, $"score '{s}' is not finite");
        return v;
    }

    private static string Column(int i) => i switch { 0 => "algorithm", 1 => "task", 2 => "run", _ => "score" };

    private static string Short(string s) => s.Length <= 80 ? s : s[..77] + "...";

    private static InvalidDataException Bad(string name, int lineNo, string what) => new($"{name} line {lineNo}: {what}");

    /// <summary>Run ids in numeric order when both are integers (seed 2 before seed 10), ordinal order otherwise.</summary>
    private sealed class RunOrder : IComparer<(string Run, double Score)>
    {
        public static readonly RunOrder Instance = new();

        public int Compare((string Run, double Score) a, (string Run, double Score) b)
        {
            bool ia = long.TryParse(a.Run, NumberStyles.Integer, CultureInfo.InvariantCulture, out long x);
            bool ib = long.TryParse(b.Run, NumberStyles.Integer, CultureInfo.InvariantCulture, out long y);
            if (ia && ib && x != y) return x.CompareTo(y);
            if (ia != ib) return ia ? -1 : 1;   // integers first, so the order is a total one
            return string.CompareOrdinal(a.Run, b.Run);
        }
    }
}
