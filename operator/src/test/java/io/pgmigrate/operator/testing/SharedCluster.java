package io.pgmigrate.operator.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives a test the suite's shared {@link KubeApi} and real {@link TestNode} (the ones
 * {@link OperatorExtension} starts once per run), without an operator of its own: for tests
 * that run the operator some other way, such as from its image.
 */
public final class SharedCluster implements ParameterResolver {

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    var type = p.getParameter().getType();
    return type == KubeApi.class || type == TestNode.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == KubeApi.class
        ? OperatorExtension.api(e) : OperatorExtension.node(e);
  }
}
