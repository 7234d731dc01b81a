# The operator's image: built with Maven, run on a JRE as a non-root user.
#   docker build -t pgmigrate-operator:0.1.0 .
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY operator/pom.xml operator/
RUN mvn -B -pl operator dependency:go-offline
COPY operator/src operator/src
RUN mvn -B -pl operator -DskipTests package

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/operator/target/lib/ /app/lib/
COPY --from=build /src/operator/target/pgmigrate-operator-*.jar /app/pgmigrate-operator.jar
# the chart's securityContext runs it as 65532 with a read-only root file system
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/pgmigrate-operator.jar"]
