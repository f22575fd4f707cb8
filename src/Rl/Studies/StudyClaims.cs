// StudyClaims: the AlphaGrad paper's three claims tested against a study's intervals: what the data support at the
// study's confidence and what they do not, decided by fixed rules from the intervals, never written by hand.
using System.Globalization;

namespace Tiny.Rl.Studies;

/// <summary>One swept optimizer against the baseline on one agent's tasks; every estimate has its interval.</summary>
/// <param name="Optimizer">The swept optimizer (one point of the sweep).</param>
/// <param name="Value">Its swept value (alpha).</param>
/// <param name="Improvement">P(optimizer &gt; baseline) of the scores.</param>
/// <param name="IqmDifference">IQM(optimizer) − IQM(baseline) of the scores.</param>
/// <param name="DivergenceDifference">Fraction of runs diverged, optimizer minus baseline.</param>
/// <param name="DropDifference">Mean drop of the learning curve from its best window to its last, optimizer minus baseline.</param>
/// <param name="Diverged">The optimizer's diverged runs.</param>
/// <param name="BaselineDiverged">The baseline's diverged runs.</param>
/// <param name="Runs">Runs per optimizer (the agent's tasks × seeds).</param>
public sealed record SweepComparison(OptimizerVariant Optimizer, double Value, Estimate Improvement, Estimate IqmDifference,
                                     Estimate DivergenceDifference, Estimate DropDifference, int Diverged, int BaselineDiverged, int Runs);

/// <summary>A claim, the verdict the rules reach and why.</summary>
/// <param name="Statement">The claim as the paper makes it.</param>
/// <param name="Agent">The agent whose tasks test it.</param>
/// <param name="Rule">What "supported" means here, in terms of the intervals.</param>
/// <param name="Verdict">"supported", "partly supported", "not supported", "contradicted", "not decided" (too few runs
/// per task) or "not tested" (no such agent or sweep in the study).</param>
/// <param name="Summary">One or two sentences naming the values behind the verdict.</param>
/// <param name="Comparisons">The comparison at every point of the sweep.</param>
public sealed record ClaimVerdict(string Statement, string Agent, string Rule, string Verdict, string Summary, IReadOnlyList<SweepComparison> Comparisons);

/// <summary>
/// The paper's claims (Sane 2025): AlphaGrad is "unstable in DQN", "competitive in TD3 with α tuning" and
/// "substantially better in PPO" than Adam. Each is decided from the study's intervals (each at the study's
/// confidence, per comparison: with one comparison per α, some intervals will exclude their true value by chance;
/// the report says so) by these rules, with a margin δ = <see cref="Margin"/> (a tenth of the random-to-solved range):
/// <list type="bullet">
/// <item>unstable: at some α, the fraction of diverged runs or the mean drop of the learning curve from its best
/// window to its last is higher than Adam's (the interval of the difference lies above 0).</item>
/// <item>competitive with tuning: at some α, IQM(AlphaGrad) − IQM(Adam) has an interval above −δ (non-inferior by δ).
/// Picking the best α on the same data favours AlphaGrad; the report says so.</item>
/// <item>substantially better: at some α, P(AlphaGrad &gt; Adam) has an interval above 0.5 and IQM(AlphaGrad) −
/// IQM(Adam) one above +δ; "partly" when P's interval is above 0.5 but the IQM difference's is not above δ.</item>
/// </list>
/// A claim is "contradicted" when at every α the data show the opposite (Adam better: P's interval below 0.5 for
/// "competitive" and "better"; AlphaGrad's divergence and drop intervals below Adam's for "unstable").
/// </summary>
public static class StudyClaims
{
    /// <summary>The margin δ of "competitive" and "substantially", in normalised score.</summary>
    public const double Margin = 0.1;

    /// <summary>The fewest runs per task a verdict is reached with: below it a percentile bootstrap interval is too
    /// coarse to mean anything (with 2 runs, every resample is one of 3 values), and the claim is left undecided.</summary>
    public const int MinRunsPerTask = 5;

    /// <summary>The three claims, decided from analysis (the family's sweep against the baseline, per agent).</summary>
    public static IReadOnlyList<ClaimVerdict> Evaluate(StudyAnalysis analysis, string family = "alphagrad")
    {
        string b = analysis.Spec.Baseline;
        return
        [
            Decide(analysis, family, "dqn", $"{family} is unstable in DQN",
                $"supported where, at some α, the fraction of diverged runs or the mean drop of the learning curve from its best window to its last is higher than {b}'s (interval of the difference above 0)",
                c =>
                {
                    var unstable = c.Where(x => x.DivergenceDifference.Lo > 0 || x.DropDifference.Lo > 0).ToList();
                    var stable = c.Where(x => x.DivergenceDifference.Hi < 0 && x.DropDifference.Hi < 0).ToList();
                    string worse = Alphas(c.Where(x => x.Improvement.Hi < 0.5));
                    string tail = worse.Length > 0 ? $" Its scores are below {b}'s (P(X > {b}) interval under 0.5) at α ∈ {{{worse}}}." : "";
                    if (unstable.Count > 0)
                        return (unstable.Count == c.Count ? "supported" : "partly supported",
                            $"Less stable than {b} at α ∈ {{{Alphas(unstable)}}} of {{{Alphas(c)}}}: " +
                            string.Join("; ", unstable.Select(x => $"α={Num(x.Value)}: diverged {x.Diverged}/{x.Runs} vs {x.BaselineDiverged}/{x.Runs}, drop difference {E(x.DropDifference)}")) + "." + tail);
                    if (stable.Count == c.Count)
                        return ("contradicted", $"At every α both the divergence and the drop differences lie below 0: more stable than {b}." + tail);
                    return ("not supported", $"At no α does the divergence-rate or the drop difference with {b} lie above 0 (diverged runs: " +
                        string.Join(", ", c.Select(x => $"α={Num(x.Value)} {x.Diverged}/{x.Runs}")) + $"; {b} {c[0].BaselineDiverged}/{c[0].Runs})." + tail);
                }),
            Decide(analysis, family, "td3", $"{family} is competitive with {b} in TD3 with α tuning",
                $"supported where, at some α, IQM({family}) − IQM({b}) has an interval above −{Num(Margin)} (not worse by more than δ = {Num(Margin)})",
                c =>
                {
                    var ok = c.Where(x => x.IqmDifference.Lo > -Margin).ToList();
                    var best = c.MaxBy(x => x.IqmDifference.Value)!;
                    if (ok.Count > 0)
                        return ("supported", $"Non-inferior to {b} by δ at α ∈ {{{Alphas(ok)}}} of {{{Alphas(c)}}} (" +
                            string.Join("; ", ok.Select(x => $"α={Num(x.Value)}: IQM difference {E(x.IqmDifference)}, P(X > {b}) {P(x.Improvement)}")) +
                            "). The best α is picked on these same runs, which favours the claim.");
                    if (c.All(x => x.Improvement.Hi < 0.5))
                        return ("contradicted", $"Worse than {b} at every α (P(X > {b}) interval under 0.5); the best, α={Num(best.Value)}: IQM difference {E(best.IqmDifference)}, P {P(best.Improvement)}.");
                    return ("not supported", $"No α is shown within δ of {b}: the best, α={Num(best.Value)}, has IQM difference {E(best.IqmDifference)} and P(X > {b}) {P(best.Improvement)}; the data cannot tell competitive from worse.");
                }),
            Decide(analysis, family, "ppo", $"{family} is substantially better than {b} in PPO",
                $"supported where, at some α, P({family} > {b}) has an interval above 0.5 and IQM({family}) − IQM({b}) one above +{Num(Margin)}; partly where only P's is above 0.5",
                c =>
                {
                    var better = c.Where(x => x.Improvement.Lo > 0.5).ToList();
                    var substantial = better.Where(x => x.IqmDifference.Lo > Margin).ToList();
                    var best = c.MaxBy(x => x.Improvement.Value)!;
                    if (substantial.Count > 0)
                        return ("supported", $"Substantially better at α ∈ {{{Alphas(substantial)}}} of {{{Alphas(c)}}} (" +
                            string.Join("; ", substantial.Select(x => $"α={Num(x.Value)}: P(X > {b}) {P(x.Improvement)}, IQM difference {E(x.IqmDifference)}")) + ").");
                    if (better.Count > 0)
                        return ("partly supported", $"Better (P(X > {b}) above 0.5) at α ∈ {{{Alphas(better)}}}, but no IQM difference is shown above δ (" +
                            string.Join("; ", better.Select(x => $"α={Num(x.Value)}: P {P(x.Improvement)}, IQM difference {E(x.IqmDifference)}")) + ").");
                    if (c.All(x => x.Improvement.Hi < 0.5))
                        return ("contradicted", $"Worse than {b} at every α (P(X > {b}) interval under 0.5); the best, α={Num(best.Value)}: P {P(best.Improvement)}.");
                    return ("not supported", $"At no α is P(X > {b}) shown above 0.5; the best, α={Num(best.Value)}: P {P(best.Improvement)}, IQM difference {E(best.IqmDifference)}.");
                }),
        ];
    }

    private static ClaimVerdict Decide(StudyAnalysis a, string family, string agent, string statement, string rule,
                                       Func<IReadOnlyList<SweepComparison>, (string Verdict, string Summary)> decide)
    {
        var swept = a.Spec.Optimizers.Where(o => o.Family == family && o.Swept.Count == 1).OrderBy(o => o.Swept.Values.Single()).ToList();
        if (!a.Agents.Contains(agent) || swept.Count == 0 || swept.Select(o => o.Swept.Keys.Single()).Distinct().Count() != 1)
            return new ClaimVerdict(statement, agent, rule, "not tested",
                $"The study has no {agent} task or no {family} sweep over one key to test it with.", []);
        var baseline = a.Baseline;
        var comparisons = swept.Select(o =>
        {
            int runs = a.Values(o, agent, r => r.Score).Sum(t => t.Length);
            int diverged = a.Values(o, agent, r => r.Diverged ? 1 : 0).Sum(t => (int)t.Sum());
            int baseDiverged = a.Values(baseline, agent, r => r.Diverged ? 1 : 0).Sum(t => (int)t.Sum());
            return new SweepComparison(o, o.Swept.Values.Single(),
                a.Compare(o, baseline, agent, r => r.Score, Stats.ProbabilityOfImprovement),
                a.Compare(o, baseline, agent, r => r.Score, (x, y) => Stats.Iqm(x) - Stats.Iqm(y)),
                a.Compare(o, baseline, agent, r => r.Diverged ? 1 : 0, (x, y) => PooledMean(x) - PooledMean(y)),
                a.Compare(o, baseline, agent, r => r.Drop, (x, y) => PooledMean(x) - PooledMean(y)),
                diverged, baseDiverged, runs);
        }).ToList();
        int fewest = a.Spec.Optimizers.Where(o => o == baseline || swept.Contains(o)).SelectMany(o => a.Values(o, agent, r => r.Score)).Min(t => t.Length);
        if (fewest < MinRunsPerTask)
            return new ClaimVerdict(statement, agent, rule, "not decided",
                $"Only {fewest} run{(fewest == 1 ? "" : "s")} per task: too few for a {100 * a.Confidence:0.##}% bootstrap interval to decide (at least {MinRunsPerTask}); the values are shown, not judged.", comparisons);
        var (verdict, summary) = decide(comparisons);
        return new ClaimVerdict(statement, agent, rule, verdict, summary, comparisons);
    }

    /// <summary>The mean of every run of every task pooled.</summary>
    private static double PooledMean(double[][] x)
    {
        double s = 0;
        int n = 0;
        foreach (var t in x) { foreach (var v in t) s += v; n += t.Length; }
        return s / n;
    }

    private static string Alphas(IEnumerable<SweepComparison> c) => string.Join(", ", c.Select(x => Num(x.Value)));

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>A probability "v [lo, hi]" with 2 decimals.</summary>
    public static string P(Estimate e) => string.Create(CultureInfo.InvariantCulture, $"{e.Value:0.00} [{e.Lo:0.00}, {e.Hi:0.00}]");

    /// <summary>A difference "+v [lo, hi]" with 2 decimals and signs.</summary>
    public static string E(Estimate e) => string.Create(CultureInfo.InvariantCulture, $"{e.Value:+0.00;-0.00;0.00} [{e.Lo:+0.00;-0.00;0.00}, {e.Hi:+0.00;-0.00;0.00}]");
}
