// MinAtarBreakout: MinAtar's Breakout (Young and Tian 2019) with the rules of kenjyoung/MinAtar, minatar/environments/breakout.py.
namespace Tiny.Rl;

/// <summary>
/// MinAtar Breakout on a 10x10 grid, rule for rule as the reference (kenjyoung/MinAtar <c>breakout.py</c>; sticky
/// actions, seeding and layout as <see cref="MinAtarEnv"/>). The ball moves one cell per step along a diagonal; it is
/// reflected by the side walls, the top wall and bricks, and bounced by the paddle on row 9. Reward 1 per brick;
/// when the ball reaches row 9 with no brick left, rows 1-3 are refilled. Terminated when the ball reaches row 9
/// and misses the paddle. No difficulty ramping (the reference's Breakout ignores its ramping flag).
/// <para>Actions: "MinAtar/Breakout-v1" uses the minimal set {0: noop, 1: left, 2: right}; "MinAtar/Breakout-v0"
/// the full MinAtar set (u, d, f do nothing here).</para>
/// <para>Observation: [4, 10, 10], channels 0 paddle, 1 ball, 2 trail (the ball's previous cell), 3 brick.</para>
/// <para>Randomness: the start side, <c>randint(2)</c> at reset, and the sticky draws.</para>
/// </summary>
public sealed class MinAtarBreakout : MinAtarEnv
{
    /// <summary>Number of observation channels.</summary>
    public const int Channels = 4;
    /// <summary>Channel indices of the observation.</summary>
    public const int PaddleChannel = 0, BallChannel = 1, TrailChannel = 2, BrickChannel = 3;

    // Direction d moves the ball by (Dx[d], Dy[d]): 0 up-left, 1 up-right, 2 down-right, 3 down-left (y grows downward).
    private static readonly int[] Dx = [-1, 1, 1, -1], Dy = [-1, -1, 1, 1];
    private static readonly int[] FlipX = [1, 0, 3, 2];      // side wall: reverse horizontal motion
    private static readonly int[] FlipY = [3, 2, 1, 0];      // top wall, brick, paddle hit from above: reverse vertical
    private static readonly int[] Reverse = [2, 3, 0, 1];    // paddle hit by the ball's corner: reverse both

    /// <summary>Creates the env; call <see cref="MinAtarEnv.Reset"/> before stepping.</summary>
    /// <param name="stickyActionProb">Probability of repeating the previous action (reference default 0.1).</param>
    /// <param name="minimalActionSet">True: 3 actions (v1); false: MinAtar's 6 actions (v0).</param>
    public MinAtarBreakout(double stickyActionProb = DefaultStickyActionProb, bool minimalActionSet = true)
        : base("Breakout", Channels, [ActNoop, ActLeft, ActRight], stickyActionProb, minimalActionSet, difficultyRamping: false)
    {
    }

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
    /// <summary>The live brick map, indexed [row y, column x]; editing it changes the game.</summary>
    public bool[,] Bricks { get; } = new bool[Size, Size];

    /// <summary>Number of bricks left.</summary>
    public int BrickCount
    {
        get { int n = 0; foreach (bool b in Bricks) if (b) n++; return n; }
    }

    /// <summary>
    /// Starts an episode: bricks on rows 1-3, paddle at column 4, ball on row 3 either at column 0 moving down-right
    /// or at column 9 moving down-left (<c>randint(2)</c>), trail on the ball.
    /// </summary>
    protected override void ResetGame()
    {
        BallY = 3;
        (BallX, BallDir) = Random.RandInt(0, 2) == 0 ? (0, 2) : (9, 3);
        PaddleX = 4;
        Array.Clear(Bricks);
        FillBrickRows();
        Strike = false;
        LastX = BallX;
        LastY = BallY;
    }

    /// <inheritdoc/>
    protected override double ActGame(int fullAction)
    {
        if ((uint)BallDir > 3) throw new InvalidOperationException($"{Id}: ball direction {BallDir} is not in 0..3");
        double reward = 0;

        if (fullAction == ActLeft) PaddleX = Math.Max(0, PaddleX - 1);
        else if (fullAction == ActRight) PaddleX = Math.Min(Size - 1, PaddleX + 1);

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

    /// <inheritdoc/>
    protected override void Draw(Span<float> obs)
    {
        CheckCell(BallX, BallY, "ball"); CheckCell(LastX, LastY, "trail"); CheckCell(PaddleX, Size - 1, "paddle");
        obs[Cell(BallChannel, BallY, BallX)] = 1;
        obs[Cell(PaddleChannel, Size - 1, PaddleX)] = 1;
        obs[Cell(TrailChannel, LastY, LastX)] = 1;
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
                if (Bricks[y, x]) obs[Cell(BrickChannel, y, x)] = 1;
    }

    private void FillBrickRows()
    {
        for (int y = 1; y <= 3; y++)
            for (int x = 0; x < Size; x++) Bricks[y, x] = true;
    }

    /// <inheritdoc/>
    protected override void WriteGame(JsonObject state)
    {
        state["ball"] = StateJson.Ints([BallX, BallY, BallDir, PaddleX, LastX, LastY]);
        state["strike"] = Strike;
        var bricks = new int[Size * Size];
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++) bricks[y * Size + x] = Bricks[y, x] ? 1 : 0;
        state["bricks"] = StateJson.Ints(bricks);
    }

    /// <inheritdoc/>
    protected override void ReadGame(JsonObject state)
    {
        var v = StateJson.IntArray(state, "ball");
        var bricks = StateJson.IntArray(state, "bricks");
        if (v.Length != 6 || bricks.Length != Size * Size) throw new InvalidDataException($"{Id}: malformed saved state ({v.Length} ball values, {bricks.Length} bricks)");
        (BallX, BallY, BallDir, PaddleX, LastX, LastY) = (v[0], v[1], v[2], v[3], v[4], v[5]);
        Strike = StateJson.Bool(state, "strike");
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++) Bricks[y, x] = bricks[y * Size + x] != 0;
    }
}
