// MinAtarRender: draws MinAtar observations ([C, 10, 10] channel-major, 0/1) as a grid of tiles in one PNG, no drawing library.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Tiny.Rl;

/// <summary>Renders MinAtar frames to PNG with the reference's look: black background, one colour per channel.</summary>
public static class MinAtarRender
{
    /// <summary>
    /// The reference's display colours for <paramref name="channels"/> channels: seaborn's
    /// <c>color_palette("cubehelix", C)</c>, i.e. matplotlib's cubehelix map (gamma 1, start 0.5, rotations -1.5,
    /// hue 1; Green 2011) read from its 256-entry table at i / (C + 1) for i = 1..C, as 0-255 RGB rounded.
    /// </summary>
    internal static byte[][] Palette(int channels)
    {
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, "MinAtarRender.Palette: needs at least one channel");
        var palette = new byte[channels][];
        for (int i = 0; i < channels; i++)
        {
            double x = (i + 1) / (double)(channels + 1);
            double t = Math.Min((int)(x * 256), 255) / 255.0;
            double amp = t * (1 - t) / 2, phi = 2 * Math.PI * (0.5 / 3 - 1.5 * t);
            double cos = Math.Cos(phi), sin = Math.Sin(phi);
            palette[i] =
            [
                Byte(t + amp * (-0.14861 * cos + 1.78277 * sin)),
                Byte(t + amp * (-0.29227 * cos - 0.90649 * sin)),
                Byte(t + amp * (1.97294 * cos)),
            ];
        }
        return palette;

        static byte Byte(double v) => (byte)Math.Round(Math.Clamp(v, 0, 1) * 255);
    }

    private static readonly byte[] Gap = [64, 64, 64];

    /// <summary>
    /// Writes the frames as one PNG: tiles of 10x10 cells, <paramref name="scale"/> pixels per cell, left to right
    /// then top to bottom, <paramref name="columns"/> tiles per row, a 1-pixel grey line between tiles. A cell takes
    /// the colour of its highest set channel in <see cref="Palette"/> (as the reference's display, e.g. Breakout's brick
    /// over trail over ball over paddle); every frame must have the same channel count C (1..64).
    /// </summary>
    public static void SavePng(IReadOnlyList<float[]> frames, string path, int scale = 16, int columns = 10)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (frames.Count == 0) throw new ArgumentException("MinAtarRender.SavePng: no frames", nameof(frames));
        if (scale <= 0) throw new ArgumentOutOfRangeException(nameof(scale), scale, "MinAtarRender.SavePng: scale must be positive");
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "MinAtarRender.SavePng: columns must be positive");
        const int side = 10, plane = side * side;
        int channels = frames[0]?.Length / plane ?? 0;
        for (int i = 0; i < frames.Count; i++)
        {
            var f = frames[i] ?? throw new ArgumentException($"MinAtarRender.SavePng: frame {i} is null", nameof(frames));
            if (f.Length == 0 || f.Length % plane != 0 || f.Length / plane != channels || channels > 64)
                throw new ArgumentException($"MinAtarRender.SavePng: frame {i} has {f.Length} values; frames must all be [C, 10, 10] with 1 <= C <= 64", nameof(frames));
        }
        var palette = Palette(channels);

        int cols = Math.Min(columns, frames.Count), rows = (frames.Count + cols - 1) / cols;
        int tile = side * scale;
        int width = cols * tile + (cols - 1), height = rows * tile + (rows - 1);
        if ((long)width * height * 3 > Array.MaxLength) throw new ArgumentException($"MinAtarRender.SavePng: a {width}x{height} image is too large; lower scale", nameof(scale));
        var rgb = new byte[width * height * 3];
        for (int p = 0; p < width * height; p++) Gap.CopyTo(rgb, p * 3);

        for (int i = 0; i < frames.Count; i++)
        {
            int ox = i % cols * (tile + 1), oy = i / cols * (tile + 1);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    int top = -1;
                    for (int c = 0; c < channels; c++)
                        if (frames[i][c * plane + y * side + x] != 0) top = c;
                    byte[] colour = top < 0 ? [0, 0, 0] : palette[top];
                    for (int py = 0; py < scale; py++)
                        for (int px = 0; px < scale; px++)
                            colour.CopyTo(rgb, ((oy + y * scale + py) * width + ox + x * scale + px) * 3);
                }
        }
        File.WriteAllBytes(path, EncodePng(rgb, width, height));
    }

    /// <summary>Encodes 8-bit RGB pixels (row-major, 3 bytes each) as a PNG file.</summary>
    public static byte[] EncodePng(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (width <= 0 || height <= 0 || rgb.Length != width * height * 3)
            throw new ArgumentException($"MinAtarRender.EncodePng: {rgb.Length} bytes for {width}x{height} RGB (needs {width * height * 3})");
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // colour type RGB; compression, filter and interlace bytes stay 0
        WriteChunk(png, "IHDR", ihdr);

        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                z.WriteByte(0);   // filter type None
                z.Write(rgb.Slice(y * width * 3, width * 3));
            }
        WriteChunk(png, "IDAT", idat.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        s.Write(four);
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        // The CRC covers the chunk type and data, not the length.
        uint crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(four, crc);
        s.Write(four);
    }

    // CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), the PNG chunk checksum; the state is pre/post-inverted by the caller.
    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    internal static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
