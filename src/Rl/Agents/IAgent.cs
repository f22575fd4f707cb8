// IAgent: what every RL agent (DQN, TD3, PPO) offers the command line and the tests.
namespace Tiny.Rl;

/// <summary>A progress report sent during training (after each finished episode and each update).</summary>
public sealed record ProgressInfo(
    long GlobalStep,
    long TotalSteps,
    double? EpisodicReturn,
    int? EpisodeLength,
    IReadOnlyDictionary<string, double> Metrics,
    double LearningRate);

/// <summary>An agent that trains on an environment and acts deterministically afterwards.</summary>
public interface IAgent
{
    /// <summary>"dqn", "td3" or "ppo".</summary>
    string Algorithm { get; }

    /// <summary>The environment id it trains on.</summary>
    string EnvId { get; }

    /// <summary>Trains for the configured number of steps; stops early (cleanly) when ct is cancelled.</summary>
    void Train(Action<ProgressInfo>? progress = null, CancellationToken ct = default);

    /// <summary>Deterministic action for one observation: greedy (discrete, as [index]) or mean action (continuous).</summary>
    float[] Act(ReadOnlySpan<float> observation);

    /// <summary>Moves the networks, losses and updates to device (envs and stored transitions stay on the CPU).</summary>
    IAgent To(Device device);

    /// <summary>Writes DIR/model.safetensors and DIR/config.json (options, env id, optimizer, normalisation stats).</summary>
    void Save(string dir);

    /// <summary>The trained parameters by name (what the optimizers update; targets excluded), e.g. to check that
    /// training has not diverged.</summary>
    IEnumerable<KeyValuePair<string, Tensor>> NamedParameters();
}
