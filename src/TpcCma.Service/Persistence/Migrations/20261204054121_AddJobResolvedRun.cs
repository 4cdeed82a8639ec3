using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TpcCma.Service.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AddJobResolvedRun : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Run",
                table: "jobs",
                type: "jsonb",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Run",
                table: "jobs");
        }
    }
}
