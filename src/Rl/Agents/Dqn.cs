// DQN (Mnih et al. 2015) after CleanRL's dqn.py: epsilon-greedy acting, a replay buffer, a Q-network trained on
// MSE(r + gamma * max_a' Q_target(s', a') * (1 - terminated), Q(s, a)), and a target network copied every
// targetNetworkFrequency steps; options turn it into Stable-Baselines3's DQN (Huber loss, gradient-norm clipping,
// several gradient steps per training round). Reads top to bottom in Train(). The Q-network is an MLP, or for [C, H, W] observations
// (MinAtar) the MinAtar paper's CNN; QNetworks.Create picks it (options.Net: auto, mlp, cnn), or a user's (Networks).
using System.ComponentModel;
using System.Text.Json.Nodes;
using Tiny.Nn;
using Tiny.Optim;

namespace Tiny.Rl;

/// <summary>DQN hyperparameters; defaults are CleanRL dqn.py's (CartPole-v1).</summary>
public sealed record DqnOptions
{
    /// <summary>Environment steps to train for.</summary>
    [Description("Environment steps to train for.")]
    public long TotalTimesteps { get; init; } = 500_000;
    /// <summary>Learning rate (used when the optimizer spec gives none).</summary>
    [Description("Learning rate (used when the optimizer spec gives none).")]
    public double LearningRate { get; init; } = 2.5e-4;
    /// <summary>Replay buffer capacity in transitions.</summary>
    [Description("Replay buffer capacity in transitions.")]
    public int BufferSize { get; init; } = 10_000;
    /// <summary>Discount factor.</summary>
    [Description("Discount factor.")]
    public double Gamma { get; init; } = 0.99;
    /// <summary>Target update rate: 1 = hard copy (CleanRL's default), below 1 = Polyak averaging.</summary>
    [Description("Target update rate: 1 = hard copy (CleanRL's default), below 1 = Polyak averaging.")]
    public double Tau { get; init; } = 1.0;
    /// <summary>Steps between target network updates.</summary>
    [Description("Steps between target network updates.")]
    public int TargetNetworkFrequency { get; init; } = 500;
    /// <summary>Transitions per gradient step.</summary>
    [Description("Transitions per gradient step.")]
    public int BatchSize { get; init; } = 128;
    /// <summary>Epsilon at the start of training.</summary>
    [Description("Epsilon at the start of training.")]
    public double StartE { get; init; } = 1.0;
    /// <summary>Epsilon after the exploration phase.</summary>
    [Description("Epsilon after the exploration phase.")]
    public double EndE { get; init; } = 0.05;
    /// <summary>Fraction of TotalTimesteps over which epsilon falls linearly from StartE to EndE.</summary>
    [Description("Fraction of TotalTimesteps over which epsilon falls linearly from StartE to EndE.")]
    public double ExplorationFraction { get; init; } = 0.5;
    /// <summary>Steps collected before learning starts.</summary>
    [Description("Steps collected before learning starts.")]
    public int LearningStarts { get; init; } = 10_000;
    /// <summary>Env steps per training round (of <see cref="GradientSteps"/> updates).</summary>
    [Description("Env steps per training round (of gradientSteps updates).")]
    public int TrainFrequency { get; init; } = 10;
    /// <summary>Hidden layer sizes of the Q-network (ReLU between layers); for the cnn, the Linear layers after the conv.</summary>
    [Description("Hidden layer sizes of the Q-network (ReLU between layers); for the cnn, the Linear layers after the conv.")]
    public int[] HiddenSizes { get; init; } = [120, 84];
    /// <summary>Q-network kind: auto (cnn for [C, H, W] observations, else mlp), mlp, cnn (MinAtar's conv net), or the name
    /// of a network registered with <see cref="Networks.Register"/>; <see cref="Dqn.Options"/> holds the resolved kind
    /// ("custom": a factory passed to the constructor).</summary>
    [Description("Q-network kind: auto (cnn for [C, H, W] observations, else mlp), mlp, cnn (MinAtar's conv net), or a registered network's name.")]
    public string Net { get; init; } = "auto";
    /// <summary>Steps over which epsilon falls (when set, replaces ExplorationFraction * TotalTimesteps).</summary>
    [Description("Steps over which epsilon falls (when set, replaces ExplorationFraction * TotalTimesteps).")]
    public long? ExplorationSteps { get; init; }
    /// <summary>Seed of every random number (network init, exploration, sampling, env resets).</summary>
    [Description("Seed of every random number (network init, exploration, sampling, env resets).")]
    public int Seed { get; init; } = 1;
    /// <summary>
    /// The TD loss over the batch of d_i = Q(s_i, a_i) - y_i: "mse" (CleanRL), mean(d^2); or "huber" (Stable-Baselines3,
    /// torch's smooth_l1_loss with beta 1), mean(h(d)) with h(d) = d^2 / 2 for |d| &lt; 1 and |d| - 1/2 otherwise, whose
    /// gradient dh/dd = clamp(d, -1, 1) bounds each sample's pull however far the target is (MSE's is 2d).
    /// </summary>
    [Description("TD loss: mse (CleanRL) or huber (Stable-Baselines3: smooth L1 with beta 1).")]
    public string Loss { get; init; } = "mse";
    /// <summary>
    /// When set, the Q-network's gradient is rescaled before each optimizer step to a total L2 norm of at most this,
    /// g *= min(1, maxGradNorm / (||g||_2 + 1e-6)) over all its parameters (torch's clip_grad_norm_; Stable-Baselines3's
    /// DQN uses 10); null: no clipping (CleanRL).
    /// </summary>
    [Description("Clip the Q-network's gradient to this total L2 norm (Stable-Baselines3: 10); null: no clipping (CleanRL).")]
    public double? MaxGradNorm { get; init; }
    /// <summary>Gradient steps per training round, each on a freshly sampled batch; a round runs every
    /// <see cref="TrainFrequency"/> env steps (Stable-Baselines3's train_freq and gradient_steps: the zoo's MountainCar
    /// has 8 every 16 steps). 1: CleanRL's one update per round.</summary>
    [Description("Gradient steps per training round (every trainFrequency env steps), each on a fresh batch (Stable-Baselines3's gradient_steps).")]
    public int GradientSteps { get; init; } = 1;
    /// <summary>Anneal the learning rate linearly to 0 over the run: each training round steps at
    /// lr = lr0 * (1 - t / totalTimesteps), t the env steps taken so far and lr0 the optimizer's starting rate
    /// (Stable-Baselines3's progress_remaining schedule, rl-baselines3-zoo's lin_X). false: constant (CleanRL).</summary>
    [Description("Anneal the learning rate linearly to 0 over the run (Stable-Baselines3's linear schedule); off: constant (CleanRL).")]
    public bool AnnealLr { get; init; }

    /// <summary>Throws ArgumentException naming the first option out of its range (and the range).</summary>
    public void Validate()
    {
        void Check(bool ok, string what) => OffPolicy.Check(ok, "dqn", what);
        Check(TotalTimesteps > 0, $"totalTimesteps must be positive, got {TotalTimesteps}");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"learningRate must be positive, got {LearningRate}");
        Check(BufferSize > 0, $"bufferSize must be positive, got {BufferSize}");
        Check(Gamma is >= 0 and <= 1, $"gamma must be in [0, 1], got {Gamma}");
        Check(Tau is > 0 and <= 1, $"tau must be in (0, 1], got {Tau}");
        Check(TargetNetworkFrequency > 0, $"targetNetworkFrequency must be positive, got {TargetNetworkFrequency}");
        Check(BatchSize > 0, $"batchSize must be positive, got {BatchSize}");
        Check(StartE is >= 0 and <= 1, $"startE must be in [0, 1], got {StartE}");
        Check(EndE is >= 0 and <= 1, $"endE must be in [0, 1], got {EndE}");
        Check(ExplorationFraction is > 0 and <= 1, $"explorationFraction must be in (0, 1], got {ExplorationFraction}");
        Check(ExplorationSteps is null or > 0, $"explorationSteps must be positive, got {ExplorationSteps}");
        Check(LearningStarts >= 0, $"learningStarts must be >= 0, got {LearningStarts}");
        Check(TrainFrequency > 0, $"trainFrequency must be positive, got {TrainFrequency}");
        Check(GradientSteps > 0, $"gradientSteps must be positive, got {GradientSteps}");
        Check(Loss is "mse" or "huber", $"loss must be mse or huber, got '{Loss}'");
        Check(MaxGradNorm is not double m || (m > 0 && double.IsFinite(m)), $"maxGradNorm must be positive (or null: no clipping), got {MaxGradNorm}");
        Check(HiddenSizes.Length > 0 && HiddenSizes.All(h => h > 0), $"hiddenSizes must be positive sizes, got [{string.Join(", ", HiddenSizes)}]");
        Check(!string.IsNullOrWhiteSpace(Net), "net must name a network (auto, mlp, cnn or a registered one)");
    }
}

/// <summary>Deep Q-Network for discrete action spaces.</summary>
public sealed class Dqn : IAgent
{
    private readonly Module _q, _target;
    private readonly Rng _rng;
    private readonly int _obsDim, _numActions;

    /// <summary>
    /// Builds the Q-network and its target for envId (a Discrete action space); optimizer null = Adam at
    /// options.LearningRate. network: a factory of the user's Q-network (obs [B, obsDim] to [B, actions]; called for the
    /// online network, then again for the target, into which the online values are copied; sizes checked before
    /// training), which overrides options.Net; without it options.Net picks a built-in kind or a registered network.
    /// </summary>
    public Dqn(string envId, DqnOptions options, OptimizerSpec? optimizer = null, Func<NetworkContext, Module>? network = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(envId);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        EnvId = envId;
        Optimizer = optimizer ?? Agents.DefaultOptimizer(Algorithm);
        Optimizer.Validate();
        using var env = Env.Make(envId);
        if (env.ActionSpace is not Discrete d) throw new ArgumentException($"DQN needs a discrete action space; {envId} has {env.ActionSpace}");
        if (env.ObservationSpace is not Box box) throw new ArgumentException($"DQN needs a Box observation space; {envId} has {env.ObservationSpace}");
        // config.json records the kind: mlp or cnn, a registered network's name, or "custom" for a factory passed here.
        Options = options with { Net = network is null ? QNetworks.Resolve(options.Net, box, envId) : Networks.InCode };
        OffPolicy.CheckBudget("dqn", options.TotalTimesteps, options.LearningStarts, options.BufferSize, options.BatchSize, box.Dim, 1);
        _obsDim = box.Dim;
        _numActions = d.N;
        _rng = new Rng(options.Seed);
        ActionRng = new Rng(options.Seed).Fork();
        if (network is null && QNetworks.Kinds.Contains(Options.Net))
        {
            _q = QNetworks.Create(Options.Net, box, _numActions, options.HiddenSizes, _rng);
            _target = QNetworks.Create(Options.Net, box, _numActions, options.HiddenSizes, _rng);
            _target.CopyFrom(_q);
            return;
        }
        string label = network is null ? $"net '{Options.Net}'" : "the factory passed to Dqn";
        network ??= Networks.Factory(Options.Net);
        NetworkContext Ctx(string name) => new(Algorithm, "q", name, envId, box, d, _obsDim, _numActions, _rng);
        _q = Networks.Build(network, Ctx("q_network"), label);
        _target = Networks.Copy(network, Ctx("target_network"), label, _q);
        Networks.CheckDistinct(Algorithm, [("q_network", _q), ("target_network", _target)]);
    }

    /// <inheritdoc/>
    public string Algorithm => "dqn";
    /// <inheritdoc/>
    public string EnvId { get; }
    /// <summary>The hyperparameters.</summary>
    public DqnOptions Options { get; }
    /// <summary>The optimizer spec of the Q-network.</summary>
    public OptimizerSpec Optimizer { get; }
    /// <summary>The online Q-network (obs -> one Q-value per action).</summary>
    public Module QNetwork => _q;

    /// <inheritdoc/>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters() => _q.NamedParameters("q_network.");
    /// <summary>The target Q-network.</summary>
    public Module TargetNetwork => _target;
    /// <summary>Where the networks, losses and updates run (envs and the replay buffer stay on the CPU).</summary>
    public Device Device { get; private set; } = Device.Cpu;

    /// <summary>The generator a stochastic <see cref="Act(ReadOnlySpan{float}, double, Rng?)"/> draws from when given
    /// none: seeded from options.Seed, apart from training's streams (acting never changes a run), restarted by Load.</summary>
    public Rng ActionRng { get; }

    /// <summary>Moves the Q-network and its target to device; Train then uploads each sampled batch there.</summary>
    public Dqn To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _q.To(device);
        _target.To(device);
        Device = device;
        return this;
    }

    IAgent IAgent.To(Device device) => To(device);

    /// <summary>The TD loss of options' <see cref="DqnOptions.Loss"/> between Q(s, a) and the targets y (same shape):
    /// "mse", mean((q - y)^2); "huber", torch's smooth_l1_loss(q, y) with beta 1.</summary>
    public static Tensor TdLoss(string loss, Tensor q, Tensor y) => loss switch
    {
        "mse" => F.MseLoss(q, y),
        "huber" => F.SmoothL1Loss(q, y, beta: 1.0),
        _ => throw new ArgumentException($"dqn: loss must be mse or huber, got '{loss}'"),
    };

    /// <summary>CleanRL's linear_schedule: start -> end over duration steps, then end.</summary>
    public static double LinearSchedule(double startE, double endE, double duration, long t) =>
        Math.Max((endE - startE) / duration * t + startE, endE);

    /// <summary>A training run in progress: what continues from one Train call (or checkpoint) to the next.</summary>
    private sealed class Session(Rng root, SyncVectorEnv envs, Optimizer optimizer, ReplayBuffer rb, int obsDim)
        : OffPolicySession(root, envs, rb, obsDim)
    {
        public Optimizer Optimizer { get; } = optimizer;
        public double BaseLr { get; } = optimizer.Lr;   // the starting rate, which AnnealLr scales
        public double? TdLoss { get; set; }      // null until the first update (a NaN loss is logged as NaN)
        public double? QValues { get; set; }
        public override (string Name, Optimizer Optimizer)[] Optimizers => [("optimizer", Optimizer)];
    }

    private Session? _session;

    private Session NewSession(bool reset)
    {
        var o = Options;
        var s = new Session(_rng, new SyncVectorEnv(_ => Env.Make(EnvId), 1, AutoresetMode.SameStep),
                            Optimizer.Create(_q.Parameters(), o.LearningRate), new ReplayBuffer(o.BufferSize, _obsDim, 1, o.BatchSize), _obsDim);
        if (reset) s.Reset();
        return s;
    }

    /// <inheritdoc/>
    public long GlobalStep => _session?.Step ?? 0;

    /// <inheritdoc/>
    public IReadOnlyList<KeyValuePair<string, Optimizer>> Optimizers => [new("optimizer", (_session ??= NewSession(reset: true)).Optimizer)];

    /// <inheritdoc/>
    public bool Finished => GlobalStep >= Options.TotalTimesteps;

    /// <inheritdoc/>
    public void Train(Action<ProgressInfo>? progress = null, CancellationToken ct = default, Action<long>? boundary = null)
    {
        var o = Options;
        var session = _session ??= NewSession(reset: true);
        var (actRng, sampleRng, envs, optimizer, rb, obs) = (session.ActRng, session.SampleRng, session.Envs, session.Optimizer, session.Buffer, session.Obs);
        if (session.EvalMode) { optimizer.Train(); session.EvalMode = false; }
        var qParams = _q.Parameters().ToList();
        var targetParams = _target.Parameters().ToList();

        // Reused batch tensors and arrays.
        var obsT = Tensor.Zeros([o.BatchSize, _obsDim], DType.Float32, Device);
        var nextObsT = Tensor.Zeros([o.BatchSize, _obsDim], DType.Float32, Device);
        var rewardsT = Tensor.Zeros([o.BatchSize], DType.Float32, Device);
        var terminatedT = Tensor.Zeros([o.BatchSize], DType.Float32, Device);
        var actionIndex = new int[o.BatchSize];
        var oneObs = Tensor.Zeros([1, _obsDim], DType.Float32, Device);
        var nextObs = new float[_obsDim];
        var action = new float[1];
        var actions = new int[1];

        var metrics = new Dictionary<string, double>();
        // The iterator section runs after every step, also after `continue`: a checkpoint there resumes exactly.
        for (; session.Step < o.TotalTimesteps && !ct.IsCancellationRequested; boundary?.Invoke(session.Step))
        {
            long globalStep = session.Step;
            using var memory = Tensor.Scope();   // this step's tensors go back to a pool at the end of the iteration
            // 1. Epsilon-greedy action.
            double epsilon = LinearSchedule(o.StartE, o.EndE, o.ExplorationSteps ?? o.ExplorationFraction * o.TotalTimesteps, globalStep);
            if (actRng.NextDouble() < epsilon) actions[0] = actRng.NextInt(_numActions);
            else using (Tensor.NoGrad()) actions[0] = ArgMax(OffPolicy.Host(_q.Forward(OffPolicy.Fill(oneObs, obs))));

            // 2. Step; the true next obs of a finished episode is FinalObservations (truncation is not termination).
            envs.Step(actions);
            session.Step++;   // env steps taken: what GlobalStep (the internals' clock) and metrics.csv (globalStep + 1) count
            bool terminated = envs.Terminated[0];
            (envs.FinalObservations[0] ?? envs.Observations).AsSpan(0, _obsDim).CopyTo(nextObs);
            action[0] = actions[0];
            rb.Add(obs, action, (float)envs.Rewards[0], nextObs, terminated);
            envs.Observations.AsSpan(0, _obsDim).CopyTo(obs);

            if (envs.FinishedEpisodes[0] is EpisodeInfo ep && progress is not null)
                progress(new ProgressInfo(globalStep + 1, o.TotalTimesteps, ep.Return, ep.Length, Snapshot(metrics, session.TdLoss, session.QValues, epsilon), optimizer.Lr));

            // 3. Learn: every trainFrequency steps, gradientSteps updates, each on a fresh batch.
            if (globalStep > o.LearningStarts)
            {
                if (globalStep % o.TrainFrequency == 0)
                {
                    if (o.AnnealLr) optimizer.Lr = session.BaseLr * (1.0 - (double)session.Step / o.TotalTimesteps);
                    Tensor loss = null!, oldVal = null!;
                    for (int g = 0; g < o.GradientSteps; g++)
                    {
                        rb.Sample(sampleRng);
                        OffPolicy.Fill(obsT, rb.BatchObs);
                        OffPolicy.Fill(nextObsT, rb.BatchNextObs);
                        OffPolicy.Fill(rewardsT, rb.BatchRewards);
                        OffPolicy.Fill(terminatedT, rb.BatchTerminated);
                        for (int b = 0; b < o.BatchSize; b++) actionIndex[b] = (int)rb.BatchActions[b];

                        Tensor tdTarget;
                        using (Tensor.NoGrad())
                        {
                            var targetMax = _target.Forward(nextObsT).Max(1);
                            tdTarget = rewardsT + o.Gamma * targetMax * (1.0 - terminatedT);
                        }
                        oldVal = _q.Forward(obsT).Gather(1, actionIndex, o.BatchSize, 1).Reshape(o.BatchSize);
                        loss = TdLoss(o.Loss, oldVal, tdTarget);

                        optimizer.ZeroGrad();
                        loss.Backward();
                        if (o.MaxGradNorm is double maxNorm) Clip.GradNorm(qParams, maxNorm);
                        optimizer.Step();
                    }

                    if (globalStep % 100 == 0)   // the round's last update
                    {
                        session.TdLoss = loss.Item();
                        session.QValues = Mean(OffPolicy.Host(oldVal));
                        progress?.Invoke(new ProgressInfo(globalStep + 1, o.TotalTimesteps, null, null, Snapshot(metrics, session.TdLoss, session.QValues, epsilon), optimizer.Lr));
                    }
                }

                // 4. Target network: hard copy when tau = 1.
                if (globalStep % o.TargetNetworkFrequency == 0)
                    OffPolicy.SoftUpdate(targetParams, qParams, o.Tau);
            }
        }
        // Schedule-free optimizers: the saved model and Act use the evaluation point (Eval is a no-op for the others).
        // A stopped run stays at the training point, so its checkpoint resumes exactly; Save moves it.
        if (session.Step >= o.TotalTimesteps) ToEvalPoint();
    }

    private void ToEvalPoint()
    {
        if (_session is { EvalMode: false } s) { s.Optimizer.Eval(); s.EvalMode = true; }
    }

    private static Dictionary<string, double> Snapshot(Dictionary<string, double> m, double? tdLoss, double? qValues, double epsilon)
    {
        m.Clear();
        if (tdLoss is double l) { m["td_loss"] = l; m["q_values"] = qValues!.Value; }
        m["epsilon"] = epsilon;
        return new Dictionary<string, double>(m);
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static double Mean(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (var x in v) s += x;
        return s / Math.Max(1, v.Length);
    }

    /// <inheritdoc/>
    public float[] Act(ReadOnlySpan<float> observation) => Act(observation, epsilon: 0);

    /// <summary>Deterministic: the greedy action; stochastic: epsilon-greedy with the final exploration epsilon
    /// (options' endE), see <see cref="Act(ReadOnlySpan{float}, double, Rng?)"/>.</summary>
    public float[] Act(ReadOnlySpan<float> observation, bool deterministic, Rng? rng = null) =>
        Act(observation, deterministic ? 0 : Options.EndE, rng);

    /// <summary>Epsilon-greedy, as training acts: with probability epsilon a uniform action (u &lt; epsilon, u ~ U[0, 1),
    /// then a uniform index, both from rng, null: <see cref="ActionRng"/>), else argmax_a Q(s, a); so the greedy action
    /// has probability 1 - epsilon + epsilon / N and each other one epsilon / N. Epsilon 0 draws nothing.</summary>
    public float[] Act(ReadOnlySpan<float> observation, double epsilon, Rng? rng = null)
    {
        if (observation.Length != _obsDim) throw new ArgumentException($"DQN.Act: expected {_obsDim} floats, got {observation.Length}");
        if (!(epsilon is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "DQN.Act: epsilon must be in [0, 1]");
        if (epsilon > 0)
        {
            rng ??= ActionRng;
            if (rng.NextDouble() < epsilon) return [rng.NextInt(_numActions)];
        }
        using var _ = Tensor.NoGrad();
        var x = Tensor.FromArray(observation.ToArray(), [1, _obsDim], Device);
        return [ArgMax(OffPolicy.Host(_q.Forward(x)))];
    }

    private IEnumerable<KeyValuePair<string, Tensor>> Tensors() =>
        _q.NamedParameters("q.").Concat(_target.NamedParameters("target."));

    /// <summary>DIR/model.safetensors (q.*, target.*) and DIR/config.json; the parameters of a schedule-free
    /// optimizer's run are moved to its evaluation point first.</summary>
    public void Save(string dir)
    {
        ToEvalPoint();
        Write(dir);
    }

    /// <inheritdoc/>
    public void SaveCheckpoint(string dir)
    {
        var s = _session ??= NewSession(reset: true);
        if (s.EvalMode) { s.Optimizer.Train(); s.EvalMode = false; }   // a finished schedule-free run: back to y (rounds)
        Write(dir);
        var w = s.Checkpoint(Algorithm);
        if (s.TdLoss is double l) w.Json["td_loss"] = StateJson.Num(l);
        if (s.QValues is double q) w.Json["q_values"] = StateJson.Num(q);
        w.Save(dir);
    }

    /// <inheritdoc/>
    public void LoadCheckpoint(string dir)
    {
        var s = NewSession(reset: false);
        var r = s.Restore(dir, Algorithm);
        s.TdLoss = r.Json.ContainsKey("td_loss") ? StateJson.Double(r.Json, "td_loss") : null;
        s.QValues = r.Json.ContainsKey("q_values") ? StateJson.Double(r.Json, "q_values") : null;
        _session = s;
    }

    private void Write(string dir) =>
        OffPolicy.SaveModel(dir, Tensors(), new JsonObject
        {
            ["algorithm"] = Algorithm,
            ["envId"] = EnvId,
            ["options"] = OffPolicy.OptionsToJson(Options),
            ["optimizer"] = Optimizer.ToJson(),
        }.WithSources(EnvId, Options.Net));

    /// <summary>Loads what <see cref="Save"/> wrote; a missing or corrupt DIR throws (FileNotFound/DirectoryNotFound/InvalidData).
    /// network: the factory a run with net "custom" was built with (a registered network is found by its recorded name).</summary>
    public static Dqn Load(string dir, Func<NetworkContext, Module>? network = null)
    {
        var config = OffPolicy.ReadConfig(dir, "dqn");
        string envId = config["envId"]?.GetValue<string>() ?? throw new InvalidDataException($"dqn checkpoint: config.json in '{dir}' has no envId");
        var options = OffPolicy.OptionsFromJson<DqnOptions>(config["options"], "dqn");
        var spec = config["optimizer"] is JsonNode n ? OptimizerSpec.FromJson(n) : OptimizerSpec.Adam();
        var agent = new Dqn(envId, options, spec, Agents.ConfigNetwork(options.Net, network, dir));
        OffPolicy.LoadWeights(dir, agent.Tensors().ToList(), "dqn");
        return agent;
    }
}
