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

/// <summary>An agent that trains on an environment and then acts, deterministically or by sampling its policy.</summary>
public interface IAgent
{
    /// <summary>"dqn", "td3" or "ppo".</summary>
    string Algorithm { get; }

    /// <summary>The environment id it trains on.</summary>
    string EnvId { get; }

    /// <summary>
    /// Trains up to the configured number of env steps, continuing where an earlier call or a loaded checkpoint
    /// stopped. When ct is cancelled it stops at the next point a checkpoint resumes from exactly (PPO: after an
    /// update; DQN and TD3: after an env step); <paramref name="boundary"/> is called at each such point with the env
    /// steps taken so far (e.g. to write a checkpoint every N steps).
    /// </summary>
    void Train(Action<ProgressInfo>? progress = null, CancellationToken ct = default, Action<long>? boundary = null);

    /// <summary>Env steps trained so far.</summary>
    long GlobalStep { get; }

    /// <summary>The optimizers of the run in progress by name ("optimizer"; TD3: "actor_optimizer", "q_optimizer"),
    /// created with the run if it has not started (e.g. to watch their steps before Train).</summary>
    IReadOnlyList<KeyValuePair<string, Tiny.Optim.Optimizer>> Optimizers { get; }

    /// <summary>Whether training has run to its end (PPO: its last whole update, which may stop short of the step
    /// budget by less than one batch; DQN and TD3: the step budget).</summary>
    bool Finished { get; }

    /// <summary>
    /// Writes what training needs to continue exactly to DIR: the agent (<see cref="Save"/>'s files, at the point the
    /// optimizer trains at) plus checkpoint.safetensors/checkpoint.json (optimizer state, generators, env and vector
    /// env state, normalisation statistics, replay buffer, counters). Agents.Resume(DIR) then Train gives the same
    /// parameters and progress reports as an uninterrupted run.
    /// </summary>
    void SaveCheckpoint(string dir);

    /// <summary>Restores the training state <see cref="SaveCheckpoint"/> wrote into this agent (loaded from the same
    /// DIR); InvalidDataException when it does not fit.</summary>
    void LoadCheckpoint(string dir);

    /// <summary>Deterministic action for one observation: greedy (discrete, as [index]) or mean action (continuous).</summary>
    float[] Act(ReadOnlySpan<float> observation);

    /// <summary>
    /// An action for one observation, deterministic (as <see cref="Act(ReadOnlySpan{float})"/>) or stochastic: PPO samples
    /// its Categorical or Gaussian policy; DQN is epsilon-greedy with its final exploration epsilon (options' endE);
    /// TD3 adds N(0, (explorationNoise * scale)^2) to the mean action and clips. The draws come from rng, or when null
    /// from the agent's own ActionRng (seeded from the options' seed, apart from training's generators), so the same
    /// generator state gives the same actions. DQN and TD3 also take an explicit epsilon or noise.
    /// </summary>
    float[] Act(ReadOnlySpan<float> observation, bool deterministic, Rng? rng = null);

    /// <summary>Moves the networks, losses and updates to device (envs and stored transitions stay on the CPU).</summary>
    IAgent To(Device device);

    /// <summary>Writes DIR/model.safetensors and DIR/config.json (options, env id, optimizer, normalisation stats).</summary>
    void Save(string dir);

    /// <summary>The trained parameters by name (what the optimizers update; targets excluded), e.g. to check that
    /// training has not diverged.</summary>
    IEnumerable<KeyValuePair<string, Tensor>> NamedParameters();
}
