using TpcCma.Data.Sources;

namespace TpcCma.Core.Tests.Data;

public class IconNamesTests
{
    [Theory]
    [InlineData("arrow-left-bold", "arrow left bold")]
    [InlineData("zoom_in", "zoom in")]
    [InlineData("Home-2", "home 2")]
    public void Words_SplitsOnDashesAndUnderscores(string name, string words) => Assert.Equal(words, IconNames.Words(name));

    [Theory]
    [InlineData("home", "home")]
    [InlineData("home-outline-rounded", "home")]
    [InlineData("home-2", "home")]
    [InlineData("arrow-left-bold", "arrow left")]
    [InlineData("heart-fill", "heart")]
    [InlineData("bell-twotone", "bell")]
    [InlineData("file-alt-2-light", "file")]
    [InlineData("line-chart", "line chart")]      // style words count only at the end
    [InlineData("24-filled", null)]
    public void Concept_DropsTrailingStyleWordsAndNumbers(string name, string? concept) => Assert.Equal(concept, IconNames.Concept(name));
}
