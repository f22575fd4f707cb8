// MinAtarBreakout: MinAtar's Breakout (Young and Tian 2019) with the rules of kenjyoung/MinAtar, minatar/environments/breakout.py.
namespace Tiny.Rl;

/// <summary>
/// MinAtar Breakout on a 10x10 grid, rule for rule as the reference (kenjyoung/MinAtar <c>breakout.py</c> and the
/// <c>Environment</c> wrapper in <c>environment.py</c>). The ball moves one cell per step along a diagonal; it is
/// reflected by the side walls, the top wall and bricks, and bounced by the paddle on row 9. Reward 1 per brick;
/// when the ball reaches row 9 with no brick left, rows 1-3 are refilled. Terminated when the ball reaches row 9
/// and misses the paddle. No difficulty ramping (the reference's Breakout ignores its ramping flag) and no step
/// limit (the reference's gym registration sets none).
/// <para>Actions: "MinAtar/Breakout-v1" uses the minimal set {0: noop, 1: left, 2: right}; "MinAtar/Breakout-v0"
/// the full MinAtar set {0: n, 1: l, 2: u, 3: r, 4: d, 5: f} (u, d, f do nothing here). Sticky actions: before
/// every step, with probability <see cref="StickyActionProb"/> the previous (full-set) action is repeated instead;
/// like the reference, the previous action starts at noop when the env is created and is not reset by Reset.</para>
/// <para>Observation: float32 0/1, shape [4, 10, 10] channel-major (C, H, W): obs[c*100 + y*10 + x] is the
/// reference's <c>state()[y, x, c]</c>, channels 0 paddle, 1 ball, 2 trail (the ball's previous cell), 3 brick.</para>
/// <para>Randomness (the start side and the sticky draws) comes from the env's <see cref="Rng"/>, one stream, like the
/// reference's shared RandomState; streams are Tiny's, so seeds do not reproduce numpy's episodes.</para>
/// </summary>
public sealed class MinAtarBreakout : Env
{
    /// <summary>Grid side (rows and columns).</summary>
    public const int Size = 10;
    /// <summary>Number of observation channels.</summary>
    public const int Channels = 4;
    /// <summary>Channel indices of the observation.</summary>
    public const int PaddleChannel = 0, BallChannel = 1, TrailChannel = 2, BrickChannel = 3;
    /// <summary>The reference's sticky action probability.</summary>
    public const double DefaultStickyActionProb = 0.1;

    // Full MinAtar action set n, l, u, r, d, f; the minimal set of Breakout is n, l, r = full indices 0, 1, 3.
    private const int FullNoop = 0, FullLeft = 1, FullRight = 3, FullActions = 6;
    private static readonly int[] MinimalToFull = [FullNoop, FullLeft, FullRight];
    private static readonly Box ObsSpace = new(0f, 1f, Channels, Size, Size);

    // Direction d moves the ball by (Dx[d], Dy[d]): 0 up-left, 1 up-right, 2 down-right, 3 down-left (y grows downward).
    private static readonly int[] Dx = [-1, 1, 1, -1], Dy = [-1, -1, 1, 1];
    private static readonly int[] FlipX = [1, 0, 3, 2];      // side wall: reverse horizontal motion
    private static readonly int[] FlipY = [3, 2, 1, 0];      // top wall, brick, paddle hit from above: reverse vertical
    private static readonly int[] Reverse = [2, 3, 0, 1];    // paddle hit by the ball's corner: reverse both

    private readonly bool _minimal;
    private readonly Discrete _actSpace;
    private bool _started;

    /// <summary>Creates the env; call <see cref="Reset"/> before stepping.</summary>
    /// <param name="stickyActionProb">Probability of repeating the previous action (reference default 0.1).</param>
    /// <param name="minimalActionSet">True: 3 actions (v1); false: MinAtar's 6 actions (v0).</param>
    public MinAtarBreakout(double stickyActionProb = DefaultStickyActionProb, bool minimalActionSet = true)
        : base(minimalActionSet ? "MinAtar/Breakout-v1" : "MinAtar/Breakout-v0")
    {
        if (!(stickyActionProb >= 0 && stickyActionProb <= 1))
            throw new ArgumentOutOfRangeException(nameof(stickyActionProb), stickyActionProb, "MinAtarBreakout: the sticky action probability must be in [0, 1]");
        StickyActionProb = stickyActionProb;
        _minimal = minimalActionSet;
        _actSpace = new Discrete(minimalActionSet ? MinimalToFull.Length : FullActions);
    }

    /// <inheritdoc/>
    public override Space ObservationSpace => ObsSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => _actSpace;

    /// <summary>Probability that a step repeats the previous action instead of the given one.</summary>
    public double StickyActionProb { get; }

    // ---------------------------------------------------------------- state (public so rules can be tested)

    /// <summary>Ball column, 0..9.</summary>
    public int BallX { get; set; }
    /// <summary>Ball row, 0..9 (row 0 is the top, the paddle is on row 9).</summary>
    public int BallY { get; set; }
    /// <summary>Ball direction: 0 up-left, 1 up-right, 2 down-right, 3 down-left.</summary>
    public int BallDir { get; set; }
    /// <summary>Paddle column on row 9, 0..9.</summary>
    public int PaddleX { get; set; }
    /// <summary>Column of the ball's previous cell (the trail).</summary>
    public int LastX { get; set; }
    /// <summary>Row of the ball's previous cell (the trail).</summary>
    public int LastY { get; set; }
    /// <summary>The ball hit a brick on the previous step (a second brick in a row is passed through, not broken).</summary>
    public bool Strike { get; set; }
    /// <summary>The episode has ended; further steps change nothing and give reward 0.</summary>
    public bool Terminal { get; set; }
    /// <summary>The previous action in the full 6-action set (what a sticky step repeats).</summary>
    public int LastAction { get; set; } = FullNoop;
    /// <summary>The live brick map, indexed [row y, column x]; editing it changes the game.</summary>
    public bool[,] Bricks { get; } = new bool[Size, Size];

    /// <summary>Number of bricks left.</summary>
    public int BrickCount
    {
        get { int n = 0; foreach (bool b in Bricks) if (b) n++; return n; }
    }

    /// <summary>
    /// Starts an episode: bricks on rows 1-3, paddle at column 4, ball on row 3 either at column 0 moving down-right
    /// or at column 9 moving down-left (one fair draw), trail on the ball.
    /// </summary>
    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        BallY = 3;
        (BallX, BallDir) = Rng.NextInt(2) == 0 ? (0, 2) : (9, 3);
        PaddleX = 4;
        Array.Clear(Bricks);
        FillBrickRows();
        Strike = false;
        LastX = BallX;
        LastY = BallY;
        Terminal = false;
        _started = true;
        return GetObservation();
    }

    /// <inheritdoc/>
    public override StepResult Step(int action)
    {
        if (!_actSpace.Contains(action)) throw new ArgumentException($"{Id}: action {action} is not in {_actSpace}", nameof(action));
        if (!_started) throw new InvalidOperationException($"{Id}: call Reset before Step");
        int a = _minimal ? MinimalToFull[action] : action;
        // Environment.act: the sticky draw happens on every step, also after termination.
        if (Rng.NextDouble() < StickyActionProb) a = LastAction;
        LastAction = a;
        double reward = Act(a);
        return new StepResult(GetObservation(), reward, Terminal, false);
    }

    /// <summary>One step of the game with an action of the full set (no sticky draw); returns the reward.</summary>
    public double Act(int fullAction)
    {
        if ((uint)fullAction >= FullActions) throw new ArgumentException($"{Id}: full-set action {fullAction} is not in 0..5", nameof(fullAction));
        if (Terminal) return 0;
        if ((uint)BallDir > 3) throw new InvalidOperationException($"{Id}: ball direction {BallDir} is not in 0..3");
        double reward = 0;

        if (fullAction == FullLeft) PaddleX = Math.Max(0, PaddleX - 1);
        else if (fullAction == FullRight) PaddleX = Math.Min(Size - 1, PaddleX + 1);

        LastX = BallX;
        LastY = BallY;
        int newX = BallX + Dx[BallDir], newY = BallY + Dy[BallDir];

        bool strikeToggle = false;
        if (newX < 0 || newX > Size - 1)
        {
            newX = Math.Clamp(newX, 0, Size - 1);
            BallDir = FlipX[BallDir];
        }
        if (newY < 0)
        {
            newY = 0;
            BallDir = FlipY[BallDir];
        }
        else if (Bricks[newY, newX])
        {
            strikeToggle = true;
            if (!Strike)
            {
                reward += 1;
                Strike = true;
                Bricks[newY, newX] = false;
                newY = LastY;
                BallDir = FlipY[BallDir];
            }
        }
        else if (newY == Size - 1)
        {
            if (BrickCount == 0) FillBrickRows();
            if (BallX == PaddleX)
            {
                // The ball was right above the paddle: straight bounce back up.
                BallDir = FlipY[BallDir];
                newY = LastY;
            }
            else if (newX == PaddleX)
            {
                // The ball meets the paddle diagonally: it goes back the way it came.
                BallDir = Reverse[BallDir];
                newY = LastY;
            }
            else
            {
                Terminal = true;
            }
        }
        if (!strikeToggle) Strike = false;

        BallX = newX;
        BallY = newY;
        return reward;
    }

    /// <summary>The observation of the current state: [4, 10, 10] channel-major, 0/1.</summary>
    public float[] GetObservation()
    {
        var obs = new float[Channels * Size * Size];
        WriteObservation(obs);
        return obs;
    }

    /// <summary>Writes the observation into a 400-element buffer (cleared first).</summary>
    public void WriteObservation(Span<float> obs)
    {
        if (obs.Length != Channels * Size * Size) throw new ArgumentException($"{Id}: the observation buffer needs {Channels * Size * Size} elements, got {obs.Length}", nameof(obs));
        CheckCell(BallX, BallY, "ball"); CheckCell(LastX, LastY, "trail"); CheckCell(PaddleX, Size - 1, "paddle");
        obs.Clear();
        const int plane = Size * Size;
        obs[BallChannel * plane + BallY * Size + BallX] = 1;
        obs[PaddleChannel * plane + (Size - 1) * Size + PaddleX] = 1;
        obs[TrailChannel * plane + LastY * Size + LastX] = 1;
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
                if (Bricks[y, x]) obs[BrickChannel * plane + y * Size + x] = 1;
    }

    private void CheckCell(int x, int y, string what)
    {
        if ((uint)x >= Size || (uint)y >= Size) throw new InvalidOperationException($"{Id}: {what} at (x {x}, y {y}) is off the 10x10 grid");
    }

    private void FillBrickRows()
    {
        for (int y = 1; y <= 3; y++)
            for (int x = 0; x < Size; x++) Bricks[y, x] = true;
    }

    /// <inheritdoc/>
    protected override void WriteState(JsonObject state)
    {
        state["started"] = _started;
        state["ball"] = StateJson.Ints([BallX, BallY, BallDir, PaddleX, LastX, LastY, LastAction]);
        state["strike"] = Strike;
        state["terminal"] = Terminal;
        var bricks = new int[Size * Size];
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++) bricks[y * Size + x] = Bricks[y, x] ? 1 : 0;
        state["bricks"] = StateJson.Ints(bricks);
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        var v = StateJson.IntArray(state, "ball");
        var bricks = StateJson.IntArray(state, "bricks");
        if (v.Length != 7 || bricks.Length != Size * Size) throw new InvalidDataException($"{Id}: malformed saved state ({v.Length} ball values, {bricks.Length} bricks)");
        _started = StateJson.Bool(state, "started");
        (BallX, BallY, BallDir, PaddleX, LastX, LastY, LastAction) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        Strike = StateJson.Bool(state, "strike");
        Terminal = StateJson.Bool(state, "terminal");
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++) Bricks[y, x] = bricks[y * Size + x] != 0;
    }
}
