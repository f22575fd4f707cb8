// MinAtarFreeway: MinAtar's Freeway (Young and Tian 2019) with the rules of kenjyoung/MinAtar, minatar/environments/freeway.py.
namespace Tiny.Rl;

/// <summary>
/// MinAtar Freeway on a 10x10 grid, rule for rule as the reference (kenjyoung/MinAtar <c>freeway.py</c>; sticky
/// actions, seeding and layout as <see cref="MinAtarEnv"/>). The chicken walks up and down column 4 (at most one
/// move every 3 steps); 8 cars, one per row 1-8, drive left or right and wrap around, each moving once every
/// |speed| + 1 steps. Reaching row 0 gives reward 1, sends the chicken back to row 9 and redraws the cars' speeds and
/// directions; a car on the chicken's cell sends it back to row 9. Terminated on the 2501st step (the reference's
/// timer starts at 2500 and ends the game when it goes below 0). No difficulty ramping.
/// <para>Actions: v1 minimal set {0: n, 1: u, 2: d}; v0 the full set (l, r, f do nothing).</para>
/// <para>Observation: [7, 10, 10], channels 0 chicken, 1 car, 2-6 trail of a car of speed 1-5 (the cell behind it,
/// wrapped).</para>
/// <para>Randomness: at every reset and every crossing <c>randint(1, 6, 8)</c> (speeds) then <c>rand(8)</c>
/// (direction: the sign of u - 0.5). A draw of exactly 0.5 (probability 2^-53) gives the reference a car of speed 0,
/// which moves left every step and for which the reference draws no defined trail; here it is drawn without a trail.</para>
/// </summary>
public sealed class MinAtarFreeway : MinAtarEnv
{
    /// <summary>Number of observation channels.</summary>
    public const int Channels = 7;
    /// <summary>Channel indices of the observation; the trail of a car of speed s is channel <c>Speed1Channel + s - 1</c>.</summary>
    public const int ChickenChannel = 0, CarChannel = 1, Speed1Channel = 2;
    /// <summary>The reference's constants: steps per chicken move, the game timer's start.</summary>
    public const int PlayerSpeed = 3, TimeLimit = 2500;
    /// <summary>Number of cars (one per row 1-8).</summary>
    public const int CarCount = 8;

    // A car is the reference's list [x, y, move timer, signed speed].
    private const int CX = 0, CY = 1, CTimer = 2, CSpeed = 3;

    /// <summary>Creates the env; call <see cref="MinAtarEnv.Reset"/> before stepping.</summary>
    /// <param name="stickyActionProb">Probability of repeating the previous action (reference default 0.1).</param>
    /// <param name="minimalActionSet">True: 3 actions (v1); false: MinAtar's 6 actions (v0).</param>
    public MinAtarFreeway(double stickyActionProb = DefaultStickyActionProb, bool minimalActionSet = true)
        : base("Freeway", Channels, [ActNoop, ActUp, ActDown], stickyActionProb, minimalActionSet, difficultyRamping: false)
    {
    }

    /// <summary>The chicken's row (column 4), 0..9; it starts on row 9.</summary>
    public int Position { get; set; }
    /// <summary>Steps until the chicken may move again.</summary>
    public int MoveTimer { get; set; }
    /// <summary>The game timer: 2500 at reset, one less per step, terminal below 0.</summary>
    public int TerminateTimer { get; set; }

    /// <summary>The 8 cars: {x, y, steps until the next move, signed speed (sign = direction)}.</summary>
    internal int[][] Cars { get; } = new int[CarCount][];

    /// <summary>Cars at column 0 with fresh speeds, chicken on row 9.</summary>
    protected override void ResetGame()
    {
        RandomizeCars(initialize: true);
        Position = 9;
        MoveTimer = PlayerSpeed;
        TerminateTimer = TimeLimit;
    }

    /// <inheritdoc/>
    protected override double ActGame(int fullAction)
    {
        double reward = 0;
        if (fullAction == ActUp && MoveTimer == 0)
        {
            MoveTimer = PlayerSpeed;
            Position = Math.Max(0, Position - 1);
        }
        else if (fullAction == ActDown && MoveTimer == 0)
        {
            MoveTimer = PlayerSpeed;
            Position = Math.Min(9, Position + 1);
        }

        if (Position == 0)
        {
            reward += 1;
            RandomizeCars(initialize: false);
            Position = 9;
        }

        // A car on the chicken's cell, before or after its move, sends the chicken back to row 9.
        foreach (var car in Cars)
        {
            if (car[CX] == 4 && car[CY] == Position) Position = 9;
            if (car[CTimer] == 0)
            {
                car[CTimer] = Math.Abs(car[CSpeed]);
                car[CX] += car[CSpeed] > 0 ? 1 : -1;
                if (car[CX] < 0) car[CX] = 9;
                else if (car[CX] > 9) car[CX] = 0;
                if (car[CX] == 4 && car[CY] == Position) Position = 9;
            }
            else car[CTimer] -= 1;
        }

        if (MoveTimer > 0) MoveTimer -= 1;
        TerminateTimer -= 1;
        if (TerminateTimer < 0) Terminal = true;
        return reward;
    }

    // _randomize_cars: speeds = randint(1, 6, 8), directions = sign(rand(8) - 0.5), speed *= direction.
    private void RandomizeCars(bool initialize)
    {
        Span<int> speeds = stackalloc int[CarCount];
        for (int i = 0; i < CarCount; i++) speeds[i] = Random.RandInt(1, 6);
        for (int i = 0; i < CarCount; i++) speeds[i] *= Math.Sign(Random.Rand() - 0.5);
        for (int i = 0; i < CarCount; i++)
        {
            if (initialize) Cars[i] = [0, i + 1, Math.Abs(speeds[i]), speeds[i]];
            else (Cars[i][CTimer], Cars[i][CSpeed]) = (Math.Abs(speeds[i]), speeds[i]);
        }
    }

    /// <inheritdoc/>
    protected override void Draw(Span<float> obs)
    {
        CheckCell(4, Position, "chicken");
        obs[Cell(ChickenChannel, Position, 4)] = 1;
        foreach (var car in Cars)
        {
            CheckCell(car[CX], car[CY], "car");
            obs[Cell(CarChannel, car[CY], car[CX])] = 1;
            int backX = car[CSpeed] > 0 ? car[CX] - 1 : car[CX] + 1;
            if (backX < 0) backX = 9;
            else if (backX > 9) backX = 0;
            int speed = Math.Abs(car[CSpeed]);
            if (speed is >= 1 and <= 5) obs[Cell(Speed1Channel + speed - 1, car[CY], backX)] = 1;
        }
    }

    /// <inheritdoc/>
    protected override void WriteGame(JsonObject state)
    {
        state["game"] = StateJson.Ints([Position, MoveTimer, TerminateTimer]);
        state["cars"] = EntityList(Cars);
    }

    /// <inheritdoc/>
    protected override void ReadGame(JsonObject state)
    {
        var v = StateJson.IntArray(state, "game");
        var cars = ReadEntityList(state, "cars", 4);
        if (v.Length != 3 || cars.Count != CarCount) throw new InvalidDataException($"{Id}: malformed saved state ({v.Length} game values, {cars.Count} cars)");
        (Position, MoveTimer, TerminateTimer) = (v[0], v[1], v[2]);
        for (int i = 0; i < CarCount; i++) Cars[i] = cars[i];
    }
}
