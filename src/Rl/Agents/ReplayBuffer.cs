// ReplayBuffer: a circular store of transitions for off-policy agents (DQN, TD3), preallocated, sampled into
// reused batch arrays. Truncation is not termination: only `terminated` is stored; the caller passes the true
// next observation (SyncVectorEnv.FinalObservations after an autoreset), like CleanRL's real_next_obs.
namespace Tiny.Rl;

/// <summary>
/// A fixed-capacity circular buffer of (obs, action, reward, nextObs, terminated). All storage, including the
/// batch arrays <see cref="Sample(Rng)"/> fills, is allocated once in the constructor.
/// </summary>
public sealed class ReplayBuffer
{
    private readonly float[] _obs, _nextObs, _actions, _rewards, _terminated;
    private int _next;

    /// <summary>Creates an empty buffer for capacity transitions of the given sizes, with batch arrays for batchSize.</summary>
    public ReplayBuffer(int capacity, int obsDim, int actionDim, int batchSize)
    {
        if (capacity <= 0 || obsDim <= 0 || actionDim <= 0 || batchSize <= 0)
            throw new ArgumentException($"ReplayBuffer: sizes must be positive (capacity {capacity}, obsDim {obsDim}, actionDim {actionDim}, batchSize {batchSize})");
        Capacity = capacity; ObsDim = obsDim; ActionDim = actionDim; BatchSize = batchSize;
        _obs = new float[capacity * obsDim];
        _nextObs = new float[capacity * obsDim];
        _actions = new float[capacity * actionDim];
        _rewards = new float[capacity];
        _terminated = new float[capacity];
        BatchObs = new float[batchSize * obsDim];
        BatchNextObs = new float[batchSize * obsDim];
        BatchActions = new float[batchSize * actionDim];
        BatchRewards = new float[batchSize];
        BatchTerminated = new float[batchSize];
        BatchIndices = new int[batchSize];
    }

    /// <summary>Maximum number of transitions kept (the oldest is overwritten first).</summary>
    public int Capacity { get; }
    /// <summary>Floats per observation.</summary>
    public int ObsDim { get; }
    /// <summary>Floats per action (1 for a discrete action index).</summary>
    public int ActionDim { get; }
    /// <summary>Transitions per <see cref="Sample(Rng)"/>.</summary>
    public int BatchSize { get; }
    /// <summary>Transitions stored (at most <see cref="Capacity"/>).</summary>
    public int Count { get; private set; }

    /// <summary>Sampled observations, [BatchSize, ObsDim] row-major (overwritten by each Sample).</summary>
    public float[] BatchObs { get; }
    /// <summary>Sampled next observations, [BatchSize, ObsDim].</summary>
    public float[] BatchNextObs { get; }
    /// <summary>Sampled actions, [BatchSize, ActionDim].</summary>
    public float[] BatchActions { get; }
    /// <summary>Sampled rewards, [BatchSize].</summary>
    public float[] BatchRewards { get; }
    /// <summary>Sampled terminated flags as 1/0, [BatchSize].</summary>
    public float[] BatchTerminated { get; }
    /// <summary>Buffer slots of the last sample.</summary>
    public int[] BatchIndices { get; }

    /// <summary>Stores one transition (copies the spans), overwriting the oldest when full.</summary>
    public void Add(ReadOnlySpan<float> obs, ReadOnlySpan<float> action, float reward, ReadOnlySpan<float> nextObs, bool terminated)
    {
        if (obs.Length != ObsDim || nextObs.Length != ObsDim || action.Length != ActionDim)
            throw new ArgumentException($"ReplayBuffer.Add: expected obs/nextObs of {ObsDim} and action of {ActionDim} floats, got {obs.Length}/{nextObs.Length} and {action.Length}");
        int i = _next;
        obs.CopyTo(_obs.AsSpan(i * ObsDim, ObsDim));
        nextObs.CopyTo(_nextObs.AsSpan(i * ObsDim, ObsDim));
        action.CopyTo(_actions.AsSpan(i * ActionDim, ActionDim));
        _rewards[i] = reward;
        _terminated[i] = terminated ? 1f : 0f;
        _next = (i + 1) % Capacity;
        if (Count < Capacity) Count++;
    }

    /// <summary>Draws BatchSize transitions uniformly with replacement into the Batch* arrays (no allocation).</summary>
    public void Sample(Rng rng)
    {
        if (Count == 0) throw new InvalidOperationException("ReplayBuffer.Sample: the buffer is empty");
        for (int b = 0; b < BatchSize; b++)
        {
            int i = rng.NextInt(Count);
            BatchIndices[b] = i;
            Array.Copy(_obs, i * ObsDim, BatchObs, b * ObsDim, ObsDim);
            Array.Copy(_nextObs, i * ObsDim, BatchNextObs, b * ObsDim, ObsDim);
            Array.Copy(_actions, i * ActionDim, BatchActions, b * ActionDim, ActionDim);
            BatchRewards[b] = _rewards[i];
            BatchTerminated[b] = _terminated[i];
        }
    }

    /// <summary>Same as <see cref="Sample(Rng)"/>; batchSize must equal <see cref="BatchSize"/>.</summary>
    public void Sample(int batchSize, Rng rng)
    {
        if (batchSize != BatchSize) throw new ArgumentException($"ReplayBuffer.Sample: batch arrays hold {BatchSize}, asked for {batchSize}");
        Sample(rng);
    }

    /// <summary>Adds the stored transitions (the first <see cref="Count"/> slots) and the write position to a
    /// checkpoint under prefix.</summary>
    public void SaveTo(CheckpointWriter w, string prefix)
    {
        w.Add(prefix + ".obs", _obs, Count, ObsDim);
        w.Add(prefix + ".next_obs", _nextObs, Count, ObsDim);
        w.Add(prefix + ".actions", _actions, Count, ActionDim);
        w.Add(prefix + ".rewards", _rewards, Count, 1);
        w.Add(prefix + ".terminated", _terminated, Count, 1);
        w.Json[prefix] = new JsonObject { ["count"] = Count, ["next"] = _next, ["capacity"] = Capacity };
    }

    /// <summary>Restores what <see cref="SaveTo"/> wrote into this (empty or not) buffer of the same sizes.</summary>
    public void LoadFrom(CheckpointReader r, string prefix)
    {
        var o = StateJson.Object(r.Json, prefix);
        int count = StateJson.Int(o, "count"), next = StateJson.Int(o, "next"), capacity = StateJson.Int(o, "capacity");
        if (capacity != Capacity || count < 0 || count > Capacity || next < 0 || next >= Capacity)
            throw new InvalidDataException($"checkpoint: replay buffer '{prefix}' (capacity {capacity}, count {count}, next {next}) does not fit one of capacity {Capacity}");
        void Copy(string name, float[] into, int cols)
        {
            var (data, rows) = r.Floats($"{prefix}.{name}", cols);
            if (rows != count) throw new InvalidDataException($"checkpoint: '{prefix}.{name}' has {rows} rows, the buffer {count}");
            data.AsSpan(0, rows * cols).CopyTo(into);
        }
        Copy("obs", _obs, ObsDim);
        Copy("next_obs", _nextObs, ObsDim);
        Copy("actions", _actions, ActionDim);
        Copy("rewards", _rewards, 1);
        Copy("terminated", _terminated, 1);
        Count = count;
        _next = next;
    }
}
