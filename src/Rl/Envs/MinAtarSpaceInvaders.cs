// MinAtarSpaceInvaders: MinAtar's Space Invaders (Young and Tian 2019) with the rules of kenjyoung/MinAtar,
// minatar/environments/space_invaders.py.
namespace Tiny.Rl;

/// <summary>
/// MinAtar Space Invaders on a 10x10 grid, rule for rule as the reference (kenjyoung/MinAtar
/// <c>space_invaders.py</c>; sticky actions, seeding and layout as <see cref="MinAtarEnv"/>). The cannon moves along
/// row 9 and fires upward (one shot per 5 steps); a 4x6 block of aliens marches sideways, stepping down and turning at
/// the edges, once every min(aliens left, interval) steps; every 10 steps the alien nearest the cannon's column
/// fires. Reward 1 per alien shot; a cleared wave is replaced by a new one and, with ramping, the interval drops by 1
/// (12 down to 6). Terminated when an alien bullet or an alien reaches the cannon, or when the aliens must step down
/// from row 9. The only randomness is the sticky draw.
/// <para>Actions: v1 minimal set {0: n, 1: l, 2: r, 3: f}; v0 the full set (u, d do nothing).</para>
/// <para>Observation: [6, 10, 10], channels 0 cannon, 1 alien, 2 alien moving left, 3 alien moving right,
/// 4 friendly bullet, 5 enemy bullet.</para>
/// </summary>
public sealed class MinAtarSpaceInvaders : MinAtarEnv
{
    /// <summary>Number of observation channels.</summary>
    public const int Channels = 6;
    /// <summary>Channel indices of the observation.</summary>
    public const int CannonChannel = 0, AlienChannel = 1, AlienLeftChannel = 2, AlienRightChannel = 3, FriendlyBulletChannel = 4, EnemyBulletChannel = 5;
    /// <summary>The reference's constants: steps between the cannon's shots, the first alien move interval, steps between alien shots.</summary>
    public const int ShotCoolDown = 5, InitEnemyMoveInterval = 12, EnemyShotInterval = 10;

    /// <summary>Creates the env; call <see cref="MinAtarEnv.Reset"/> before stepping.</summary>
    /// <param name="stickyActionProb">Probability of repeating the previous action (reference default 0.1).</param>
    /// <param name="minimalActionSet">True: 4 actions (v1); false: MinAtar's 6 actions (v0).</param>
    /// <param name="difficultyRamping">Faster aliens in each new wave (reference default on).</param>
    public MinAtarSpaceInvaders(double stickyActionProb = DefaultStickyActionProb, bool minimalActionSet = true, bool difficultyRamping = true)
        : base("SpaceInvaders", Channels, [ActNoop, ActLeft, ActRight, ActFire], stickyActionProb, minimalActionSet, difficultyRamping)
    {
    }

    /// <summary>Cannon column on row 9, 0..9.</summary>
    public int Position { get; set; }
    /// <summary>Aliens' horizontal direction: -1 left, +1 right.</summary>
    public int AlienDir { get; set; }
    /// <summary>The most steps between alien moves (12 down to 6 as waves are cleared).</summary>
    public int EnemyMoveInterval { get; set; }
    /// <summary>Steps until the aliens next move.</summary>
    public int AlienMoveTimer { get; set; }
    /// <summary>Steps until an alien next fires.</summary>
    public int AlienShotTimer { get; set; }
    /// <summary>Number of ramps so far (the reference's <c>difficulty_ramp()</c>).</summary>
    public int RampIndex { get; set; }
    /// <summary>Steps until the cannon may fire again.</summary>
    public int ShotTimer { get; set; }
    /// <summary>Alien cells [row, column]; editing it changes the game.</summary>
    public bool[,] Aliens { get; } = new bool[Size, Size];
    /// <summary>The cannon's bullets [row, column].</summary>
    public bool[,] FriendlyBullets { get; } = new bool[Size, Size];
    /// <summary>The aliens' bullets [row, column].</summary>
    public bool[,] EnemyBullets { get; } = new bool[Size, Size];

    /// <summary>Cannon at column 5, aliens on rows 0-3 and columns 2-7 moving left, no bullets.</summary>
    protected override void ResetGame()
    {
        Position = 5;
        Array.Clear(FriendlyBullets);
        Array.Clear(EnemyBullets);
        Array.Clear(Aliens);
        FillWave();
        AlienDir = -1;
        EnemyMoveInterval = InitEnemyMoveInterval;
        AlienMoveTimer = EnemyMoveInterval;
        AlienShotTimer = EnemyShotInterval;
        RampIndex = 0;
        ShotTimer = 0;
    }

    /// <inheritdoc/>
    protected override double ActGame(int fullAction)
    {
        if (AlienDir is not (-1 or 1)) throw new InvalidOperationException($"{Id}: alien direction {AlienDir} is not -1 or 1");
        if (fullAction == ActFire && ShotTimer == 0)
        {
            FriendlyBullets[9, Position] = true;
            ShotTimer = ShotCoolDown;
        }
        else if (fullAction == ActLeft) Position = Math.Max(0, Position - 1);
        else if (fullAction == ActRight) Position = Math.Min(9, Position + 1);

        // np.roll by -1 / +1 along rows, the wrapped row cleared: bullets move one row up / down and leave the grid.
        RollRows(FriendlyBullets, -1);
        ClearRow(FriendlyBullets, 9);
        RollRows(EnemyBullets, 1);
        ClearRow(EnemyBullets, 0);
        if (EnemyBullets[9, Position]) Terminal = true;

        if (Aliens[9, Position]) Terminal = true;
        if (AlienMoveTimer == 0)
        {
            AlienMoveTimer = Math.Min(AlienCount, EnemyMoveInterval);
            if ((ColumnAny(Aliens, 0) && AlienDir < 0) || (ColumnAny(Aliens, 9) && AlienDir > 0))
            {
                AlienDir = -AlienDir;
                if (RowAny(Aliens, 9)) Terminal = true;
                RollRows(Aliens, 1);                                    // a row 9 alien wraps to row 0, as np.roll does
            }
            else RollColumns(Aliens, AlienDir);
            if (Aliens[9, Position]) Terminal = true;
        }
        if (AlienShotTimer == 0)
        {
            AlienShotTimer = EnemyShotInterval;
            var (row, col) = NearestAlien(Position);
            EnemyBullets[row, col] = true;
        }

        double reward = 0;
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
                if (Aliens[y, x] && FriendlyBullets[y, x])
                {
                    reward += 1;
                    Aliens[y, x] = FriendlyBullets[y, x] = false;
                }

        if (ShotTimer > 0) ShotTimer -= 1;
        AlienMoveTimer -= 1;
        AlienShotTimer -= 1;
        if (AlienCount == 0)
        {
            if (EnemyMoveInterval > 6 && DifficultyRamping)
            {
                EnemyMoveInterval -= 1;
                RampIndex += 1;
            }
            FillWave();
        }
        return reward;
    }

    /// <summary>Number of aliens left.</summary>
    public int AlienCount
    {
        get { int n = 0; foreach (bool a in Aliens) if (a) n++; return n; }
    }

    // _nearest_alien: columns by distance to the cannon (ties: the left one first), the lowest alien of the first
    // column that has one.
    private (int Row, int Col) NearestAlien(int pos)
    {
        for (int d = 0; d < Size; d++)
        {
            if (pos - d >= 0 && LowestAlien(pos - d) is int low) return (low, pos - d);
            if (d > 0 && pos + d < Size && LowestAlien(pos + d) is int high) return (high, pos + d);
        }
        throw new InvalidOperationException($"{Id}: no alien left to shoot (the reference fails here too)");
    }

    private int? LowestAlien(int col)
    {
        for (int row = Size - 1; row >= 0; row--)
            if (Aliens[row, col]) return row;
        return null;
    }

    private void FillWave()
    {
        for (int y = 0; y < 4; y++)
            for (int x = 2; x < 8; x++) Aliens[y, x] = true;
    }

    // np.roll(map, shift, axis=0) and axis=1 for shift = +-1: what leaves one side comes back on the other.
    private static void RollRows(bool[,] map, int shift)
    {
        for (int x = 0; x < Size; x++)
            if (shift > 0)
            {
                bool last = map[Size - 1, x];
                for (int y = Size - 1; y > 0; y--) map[y, x] = map[y - 1, x];
                map[0, x] = last;
            }
            else
            {
                bool first = map[0, x];
                for (int y = 0; y < Size - 1; y++) map[y, x] = map[y + 1, x];
                map[Size - 1, x] = first;
            }
    }

    private static void RollColumns(bool[,] map, int shift)
    {
        for (int y = 0; y < Size; y++)
            if (shift > 0)
            {
                bool last = map[y, Size - 1];
                for (int x = Size - 1; x > 0; x--) map[y, x] = map[y, x - 1];
                map[y, 0] = last;
            }
            else
            {
                bool first = map[y, 0];
                for (int x = 0; x < Size - 1; x++) map[y, x] = map[y, x + 1];
                map[y, Size - 1] = first;
            }
    }

    private static void ClearRow(bool[,] map, int y)
    {
        for (int x = 0; x < Size; x++) map[y, x] = false;
    }

    private static bool RowAny(bool[,] map, int y)
    {
        for (int x = 0; x < Size; x++) if (map[y, x]) return true;
        return false;
    }

    private static bool ColumnAny(bool[,] map, int x)
    {
        for (int y = 0; y < Size; y++) if (map[y, x]) return true;
        return false;
    }

    /// <inheritdoc/>
    protected override void Draw(Span<float> obs)
    {
        CheckCell(Position, 9, "cannon");
        obs[Cell(CannonChannel, 9, Position)] = 1;
        int dirChannel = AlienDir < 0 ? AlienLeftChannel : AlienRightChannel;
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                if (Aliens[y, x]) obs[Cell(AlienChannel, y, x)] = obs[Cell(dirChannel, y, x)] = 1;
                if (FriendlyBullets[y, x]) obs[Cell(FriendlyBulletChannel, y, x)] = 1;
                if (EnemyBullets[y, x]) obs[Cell(EnemyBulletChannel, y, x)] = 1;
            }
    }

    /// <inheritdoc/>
    protected override void WriteGame(JsonObject state)
    {
        state["game"] = StateJson.Ints([Position, AlienDir, EnemyMoveInterval, AlienMoveTimer, AlienShotTimer, RampIndex, ShotTimer]);
        var maps = new int[3 * Size * Size];
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                maps[y * Size + x] = Aliens[y, x] ? 1 : 0;
                maps[Size * Size + y * Size + x] = FriendlyBullets[y, x] ? 1 : 0;
                maps[2 * Size * Size + y * Size + x] = EnemyBullets[y, x] ? 1 : 0;
            }
        state["maps"] = StateJson.Ints(maps);
    }

    /// <inheritdoc/>
    protected override void ReadGame(JsonObject state)
    {
        var v = StateJson.IntArray(state, "game");
        var maps = StateJson.IntArray(state, "maps");
        if (v.Length != 7 || maps.Length != 3 * Size * Size) throw new InvalidDataException($"{Id}: malformed saved state ({v.Length} game values, {maps.Length} map cells)");
        (Position, AlienDir, EnemyMoveInterval, AlienMoveTimer, AlienShotTimer, RampIndex, ShotTimer) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                Aliens[y, x] = maps[y * Size + x] != 0;
                FriendlyBullets[y, x] = maps[Size * Size + y * Size + x] != 0;
                EnemyBullets[y, x] = maps[2 * Size * Size + y * Size + x] != 0;
            }
    }
}
