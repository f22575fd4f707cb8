// RecordEpisodeStatistics: a wrapper that totals each episode's return and length (Gymnasium's wrapper of that name).
using System.Diagnostics;

namespace Tiny.Rl;

/// <summary>A finished episode: its undiscounted return, its length in steps, and its wall-clock seconds.</summary>
public readonly record struct EpisodeInfo(double Return, int Length, double Seconds);

/// <summary>
/// Totals the rewards and steps of each episode, as Gymnasium's RecordEpisodeStatistics. On the step that ends an
/// episode (terminated or truncated) <see cref="EpisodeEnded"/> is true and <see cref="LastEpisode"/> holds it;
/// LastEpisode keeps it until the next episode ends. Wrap it inside reward-changing wrappers to log raw returns.
/// </summary>
public sealed class RecordEpisodeStatistics : Wrapper
{
    private readonly Queue<EpisodeInfo> _recent = new();
    private long _startTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Wraps env, keeping the last bufferLength episodes in <see cref="Recent"/>.</summary>
    public RecordEpisodeStatistics(Env env, int bufferLength = 100) : base(env)
    {
        if (bufferLength <= 0) throw new ArgumentOutOfRangeException(nameof(bufferLength), bufferLength, "RecordEpisodeStatistics: bufferLength must be positive");
        BufferLength = bufferLength;
    }

    /// <summary>How many finished episodes <see cref="Recent"/> keeps.</summary>
    public int BufferLength { get; }

    /// <summary>The most recently finished episode, or null before the first one ends.</summary>
    public EpisodeInfo? LastEpisode { get; private set; }

    /// <summary>True right after the step that finished <see cref="LastEpisode"/>; false after any other step or Reset.</summary>
    public bool EpisodeEnded { get; private set; }

    /// <summary>Return of the episode in progress so far.</summary>
    public double EpisodeReturn { get; private set; }

    /// <summary>Steps of the episode in progress so far.</summary>
    public int EpisodeLength { get; private set; }

    /// <summary>The last <see cref="BufferLength"/> finished episodes, oldest first.</summary>
    public IReadOnlyCollection<EpisodeInfo> Recent => _recent;

    /// <inheritdoc/>
    public override float[] Reset(int? seed = null)
    {
        float[] obs = Inner.Reset(seed);
        StartEpisode();
        EpisodeEnded = false;
        return obs;
    }

    /// <inheritdoc/>
    public override StepResult Step(int action) => Record(Inner.Step(action));
    /// <inheritdoc/>
    public override StepResult Step(ReadOnlySpan<float> action) => Record(Inner.Step(action));

    private void StartEpisode()
    {
        EpisodeReturn = 0; EpisodeLength = 0;
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    private StepResult Record(StepResult r)
    {
        EpisodeReturn += r.Reward;
        EpisodeLength++;
        EpisodeEnded = r.Terminated || r.Truncated;
        if (EpisodeEnded)
        {
            var info = new EpisodeInfo(EpisodeReturn, EpisodeLength, Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds);
            LastEpisode = info;
            _recent.Enqueue(info);
            if (_recent.Count > BufferLength) _recent.Dequeue();
            StartEpisode();
        }
        return r;
    }

    /// <summary>Saves the episode in progress (return, length), the last finished one and the recent ones; wall-clock
    /// seconds restart from the resume.</summary>
    protected override void WriteState(JsonObject state)
    {
        base.WriteState(state);
        state["episode_return"] = StateJson.Num(EpisodeReturn);
        state["episode_length"] = EpisodeLength;
        state["episode_ended"] = EpisodeEnded;
        static JsonObject Info(EpisodeInfo e) => new() { ["return"] = StateJson.Num(e.Return), ["length"] = e.Length, ["seconds"] = StateJson.Num(e.Seconds) };
        if (LastEpisode is EpisodeInfo last) state["last_episode"] = Info(last);
        state["recent"] = new JsonArray(_recent.Select(e => (JsonNode)Info(e)).ToArray());
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        base.ReadState(state);
        EpisodeReturn = StateJson.Double(state, "episode_return");
        EpisodeLength = StateJson.Int(state, "episode_length");
        EpisodeEnded = StateJson.Bool(state, "episode_ended");
        static EpisodeInfo Info(JsonObject o) => new(StateJson.Double(o, "return"), StateJson.Int(o, "length"), StateJson.Double(o, "seconds"));
        LastEpisode = state.ContainsKey("last_episode") ? Info(StateJson.Object(state, "last_episode")) : null;
        _recent.Clear();
        foreach (var e in (StateJson.Get(state, "recent") as JsonArray ?? [])) _recent.Enqueue(Info(e!.AsObject()));
        _startTimestamp = Stopwatch.GetTimestamp();
    }
}
