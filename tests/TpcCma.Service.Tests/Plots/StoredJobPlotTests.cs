using System.Net;
using Microsoft.EntityFrameworkCore;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Tests.Plots;

/// <summary>
/// Plots of a job that is stored but never run (no worker): a test writes the rows the job would have written
/// straight into its tables, as the progress writer does, and reads the pictures the API draws of them.
/// </summary>
public abstract class StoredJobPlotTests(string user) : UserDeploymentTests(new UserDeployment(user, shapes: 64))
{
    protected string JobId { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        JobId = await Deployment.SubmitAsync("plotted", new { kind = "align", steps = 30, batch_size = 16 });
    }

    /// <summary>A context on the deployment's database, for writing the job's rows.</summary>
    protected TrainingDb Database() => new(new DbContextOptionsBuilder<TrainingDb>().UseNpgsql(Stack.ConnectionString).Options);

    /// <summary>A plot of the job, checked to be a PNG, decoded.</summary>
    protected async Task<Image<Rgba32>> GetPngAsync(HttpClient client, string name, string query = "")
    {
        var response = await client.GetAsync($"/v1/jobs/{JobId}/plots/{name}.png{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return Image.Load<Rgba32>(await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>How many different colours the picture has: a blank plot has a handful, drawn curves many.</summary>
    protected static int DistinctColours(Image<Rgba32> image)
    {
        var colours = new HashSet<Rgba32>();
        image.ProcessPixelRows(rows => { for (var y = 0; y < rows.Height; y++) foreach (var p in rows.GetRowSpan(y)) colours.Add(p); });
        return colours.Count;
    }
}
