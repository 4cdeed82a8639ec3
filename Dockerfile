# syntax=docker/dockerfile:1
# TPC-CMA service on CPU, as two images built from one executable published twice:
#   api     the REST API (`--mode api`), published with -p:TorchBackend=none: no libtorch, no TorchSharp glue.
#           Nothing on the API's request path runs TorchSharp; training and model work happen on workers.
#   worker  a CPU worker (`--mode worker`), with libtorch for the CPU (-p:TorchBackend=cpu). GPU workers: Dockerfile.gpu.
#   docker build --target api -t tpccma-api .
#   docker build --target worker -t tpccma-worker .
#   docker run -p 8080:8080 -e ConnectionStrings__Jobs="Host=db;Username=...;Password=...;Database=tpccma" tpccma-api
# A worker started from the api image stops at start with a message naming the image to use.
# A third target holds the EF migrations bundle, which applies pending migrations and exits (the migration Job):
#   docker build --target migrate -t tpccma-migrate .
#   docker run tpccma-migrate --connection "Host=db;Username=...;Password=...;Database=tpccma"

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
# Restore first, from the project files alone, so a code change does not download packages again.
COPY global.json dotnet-tools.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/TpcCma.Core/TpcCma.Core.csproj src/TpcCma.Core/
COPY src/TpcCma.Service/TpcCma.Service.csproj src/TpcCma.Service/
RUN dotnet restore src/TpcCma.Service/TpcCma.Service.csproj -r linux-x64 && dotnet tool restore
COPY appsettings.json ./
COPY build/ build/
COPY src/ src/
# The publish runs build/torchsharp-compat/apply.sh, which does nothing on Ubuntu 24.04 (its libstdc++ is new enough).
RUN dotnet publish src/TpcCma.Service/TpcCma.Service.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

# The API's publish: TorchSharp's managed assembly only (the types the API names), none of its native libraries.
# Its own stage, because the restore differs (TorchBackend changes the package graph).
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build-api
WORKDIR /src
COPY global.json dotnet-tools.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/TpcCma.Core/TpcCma.Core.csproj src/TpcCma.Core/
COPY src/TpcCma.Service/TpcCma.Service.csproj src/TpcCma.Service/
RUN dotnet restore src/TpcCma.Service/TpcCma.Service.csproj -r linux-x64 -p:TorchBackend=none
COPY appsettings.json ./
COPY build/ build/
COPY src/ src/
RUN dotnet publish src/TpcCma.Service/TpcCma.Service.csproj -c Release -r linux-x64 --self-contained false --no-restore \
      -p:TorchBackend=none -o /app \
 && if find /app -name 'libtorch*' -o -name 'libLibTorchSharp*' -o -name 'libc10*' -o -name 'libgomp*' | grep -q .; then \
      echo "the API publish carries TorchSharp's native libraries" >&2; exit 1; fi

# The bundle carries the service's assemblies and libtorch (~550 MB), so it gets an image of its own,
# built only when asked for (--target migrate).
FROM build AS bundle
RUN dotnet ef migrations bundle --project src/TpcCma.Service --startup-project src/TpcCma.Service \
      -r linux-x64 --configuration Release -o /migrate/efbundle

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS migrate
COPY --from=bundle /migrate/efbundle /app/efbundle
USER app
ENTRYPOINT ["/app/efbundle"]

# What the API and the CPU worker share: the ASP.NET runtime, curl for the health check, the working folders.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/tpccma/artifacts /var/lib/tpccma/data /var/lib/tpccma/hub-cache && chown -R app:app /var/lib/tpccma
ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_gcServer=1 \
    Service__ArtifactRoot=/var/lib/tpccma/artifacts \
    Service__DataRoot=/var/lib/tpccma/data \
    Hub__CacheDirectory=/var/lib/tpccma/hub-cache
# Relative paths in settings resolve against the working directory: keep it writable.
WORKDIR /var/lib/tpccma
USER app
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["dotnet", "/app/TpcCma.Service.dll"]

FROM runtime AS worker
COPY --from=build --chown=root:root /app /app
ENV Service__Mode=worker

# Last, so that a plain `docker build .` gives the API image.
FROM runtime AS api
COPY --from=build-api --chown=root:root /app /app
ENV Service__Mode=api
