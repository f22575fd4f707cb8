// The Ornstein-Uhlenbeck exploration noise of Stable-Baselines3 (OrnsteinUhlenbeckActionNoise), one process per action
// dimension, kept in double as SB3 keeps it in float64: temporally correlated noise for TD3.
namespace Tiny.Rl;

/// <summary>
/// Ornstein-Uhlenbeck noise discretised as Stable-Baselines3 does (Euler-Maruyama, mean mu = 0), per dimension i:
/// x_i &lt;- x_i + theta * (0 - x_i) * dt + sigma_i * sqrt(dt) * n, n ~ N(0, 1), starting from 0 and reset to 0 at each
/// episode's end. So x_t = a x_{t-1} + sigma sqrt(dt) n with a = 1 - theta dt: an AR(1) process whose lag-k
/// autocorrelation is a^k and whose stationary variance is sigma^2 dt / (1 - a^2) = sigma^2 / (theta (2 - theta dt)),
/// about sigma^2 / (2 theta) (SB3's theta 0.15, dt 0.01: std 1.83 sigma, reached after ~1 / (theta dt) = 667 steps;
/// from 0, Var x_t = sigma^2 dt (1 - a^(2t)) / (1 - a^2), about sigma^2 dt t early on, a random walk).
/// </summary>
public sealed class OrnsteinUhlenbeckNoise
{
    /// <summary>A process of sigmas.Length dimensions at 0; theta (mean reversion rate) and dt (time step) positive.</summary>
    public OrnsteinUhlenbeckNoise(double[] sigmas, double theta = 0.15, double dt = 1e-2)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        if (!(theta > 0 && double.IsFinite(theta))) throw new ArgumentOutOfRangeException(nameof(theta), theta, "theta must be positive");
        if (!(dt > 0 && double.IsFinite(dt))) throw new ArgumentOutOfRangeException(nameof(dt), dt, "dt must be positive");
        Sigmas = (double[])sigmas.Clone();
        Theta = theta;
        Dt = dt;
        State = new double[sigmas.Length];
    }

    /// <summary>Per-dimension scale sigma_i of the driving noise.</summary>
    public double[] Sigmas { get; }
    /// <summary>Mean-reversion rate theta.</summary>
    public double Theta { get; }
    /// <summary>Time step dt.</summary>
    public double Dt { get; }
    /// <summary>The current value x (SB3's noise_prev): what a checkpoint saves to resume the process exactly.</summary>
    public double[] State { get; }

    /// <summary>One step of x_i given the standard normal draw n, in SB3's order of operations:
    /// x + theta * (0 - x) * dt + sigma * sqrt(dt) * n.</summary>
    public static double Step(double x, double sigma, double theta, double dt, double n) =>
        x + theta * (0.0 - x) * dt + sigma * Math.Sqrt(dt) * n;

    /// <summary>Advances every dimension with a standard normal from rng (dimension 0 first) and writes the new values.</summary>
    public void Next(Rng rng, Span<double> noise)
    {
        if (noise.Length != State.Length) throw new ArgumentException($"OU noise: {noise.Length} values asked of a {State.Length}-dimensional process");
        for (int i = 0; i < State.Length; i++) noise[i] = State[i] = Step(State[i], Sigmas[i], Theta, Dt, rng.NextNormal());
    }

    /// <summary>Back to the start, x = 0 (at an episode's end).</summary>
    public void Reset() => Array.Clear(State);
}
