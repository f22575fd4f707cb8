// EnvScores: the per-env normalisation of a study's returns (random policy -> 0, the env's solved or maximal return
// -> 1), its constants with their sources, and the measurement that produced the random policy's constants.
using System.Globalization;

namespace Tiny.Rl.Studies;

/// <summary>One env's normalisation: <c>score = (return − Random) / (Reference − Random)</c>.</summary>
/// <param name="EnvId">The registered env id.</param>
/// <param name="Random">Mean return of the uniform random policy (<see cref="EnvScores.MeasureRandom"/> with
/// <see cref="EnvScores.RandomEpisodes"/> episodes and seed <see cref="EnvScores.RandomSeed"/>).</param>
/// <param name="Reference">The return that scores 1: the env's maximal return, or Gymnasium's reward_threshold
/// ("solved") where the maximum is not a meaningful target.</param>
/// <param name="ReferenceSource">Where <paramref name="Reference"/> comes from.</param>
public sealed record EnvNormalization(string EnvId, double Random, double Reference, string ReferenceSource)
{
    /// <summary>The normalised score of a return.</summary>
    public double Normalize(double episodicReturn) => (episodicReturn - Random) / (Reference - Random);
}

/// <summary>
/// The normalisation constants of the envs a study can score. Random: the mean return of
/// <see cref="RandomEpisodes"/> episodes of uniformly random actions (<see cref="MeasureRandom"/>, seed
/// <see cref="RandomSeed"/>; episode i resets with seed + i; the action generator is <c>new Rng(seed)</c>), measured
/// once with Tiny's envs and written here to 2 decimals (a test re-measures them). Reference: CartPole-v1's maximal
/// return (500, the time limit; Gymnasium's reward_threshold is 475), Pendulum-v1's maximal return (0: every step's
/// reward −(θ² + 0.1 θ̇² + 0.001 u²) is ≤ 0; Gymnasium registers no threshold), and Gymnasium's reward_threshold for
/// Acrobot-v1 (−100), MountainCar-v0 (−110) and MountainCarContinuous-v0 (90), whose maxima depend on the start state.
/// Scores above 1 are possible where the reference is a threshold.
/// </summary>
public static class EnvScores
{
    /// <summary>Episodes of the random-policy measurement.</summary>
    public const int RandomEpisodes = 1000;

    /// <summary>Seed of the random-policy measurement.</summary>
    public const int RandomSeed = 0;

    private const string Max = "maximal return", Threshold = "Gymnasium's reward_threshold (solved)";

    /// <summary>The constants, by env id.</summary>
    public static readonly IReadOnlyDictionary<string, EnvNormalization> Table = new[]
    {
        new EnvNormalization("CartPole-v1", 22.59, 500, Max + " (500-step limit)"),
        new EnvNormalization("Pendulum-v1", -1224.74, 0, Max + " (every reward is <= 0)"),
        new EnvNormalization("Acrobot-v1", -499.07, -100, Threshold),
        new EnvNormalization("MountainCar-v0", -200.00, -110, Threshold),
        new EnvNormalization("MountainCarContinuous-v0", -33.13, 90, Threshold),
    }.ToDictionary(n => n.EnvId, StringComparer.Ordinal);

    /// <summary>The normalisation of envId; an <see cref="ArgumentException"/> naming the envs that have one.</summary>
    public static EnvNormalization For(string envId) =>
        Table.TryGetValue(envId, out var n) ? n
            : throw new ArgumentException($"no score normalisation for env '{envId}' (a study needs its random and solved returns); " +
                                          $"envs with one: {string.Join(", ", Table.Keys)}");

    /// <summary>
    /// The mean return of the uniform random policy on envId over <paramref name="episodes"/> episodes: episode i
    /// resets with seed + i, actions are the action space's samples from <c>new Rng(seed)</c>.
    /// </summary>
    public static double MeasureRandom(string envId, int episodes = RandomEpisodes, int seed = RandomSeed)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "EnvScores.MeasureRandom: at least one episode");
        using var env = Env.Make(envId);
        var rng = new Rng(seed);
        double sum = 0;
        for (int ep = 0; ep < episodes; ep++)
        {
            env.Reset(seed + ep);
            double total = 0;
            while (true)
            {
                var r = env.ActionSpace switch
                {
                    Discrete d => env.Step(d.Sample(rng)),
                    Box b => env.Step(b.Sample(rng)),
                    var s => throw new NotSupportedException($"EnvScores.MeasureRandom: action space {s} of {envId}"),
                };
                total += r.Reward;
                if (r.Terminated || r.Truncated) break;
            }
            sum += total;
        }
        return sum / episodes;
    }

    /// <summary>The table as markdown rows (env, random, reference, source), for reports.</summary>
    public static string MarkdownRow(EnvNormalization n) => string.Create(CultureInfo.InvariantCulture,
        $"| {n.EnvId} | {n.Random:0.00} | {n.Reference:0.##} | {n.ReferenceSource} |");
}
