package dev.pagepool.e2e.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every Kubernetes manifest under {@code k8s/}, parsed into typed fabric8 model objects. A kind without a typed
 * class here, or a field the model does not know (a typo such as {@code readinesProbe}), is an error.
 */
final class Manifests {
    static final String KUSTOMIZATION = "kustomization.yaml";
    private static final Map<String, Class<? extends HasMetadata>> TYPES = Map.of(
        "v1/Namespace", Namespace.class,
        "v1/ConfigMap", ConfigMap.class,
        "v1/Secret", Secret.class,
        "v1/Service", Service.class,
        "apps/v1/DaemonSet", DaemonSet.class,
        "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);

    final Path dir;
    final List<Path> files = new ArrayList<>();
    final List<HasMetadata> objects = new ArrayList<>();
    final Map<String, Path> sourceOf = new java.util.HashMap<>();
    JsonNode kustomization;

    private Manifests(Path dir) {
        this.dir = dir;
    }

    static Manifests load(Path dir) throws IOException {
        Manifests manifests = new Manifests(dir);
        YAMLMapper yaml = new YAMLMapper();
        ObjectMapper json = new ObjectMapper();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile)
                .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                .sorted().toList();
        }
        for (Path file : files) {
            manifests.files.add(file);
            if (file.getFileName().toString().equals(KUSTOMIZATION)) {
                manifests.kustomization = yaml.readTree(file.toFile());
                continue;
            }
            try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(file.toFile())) {
                while (docs.hasNext()) {
                    JsonNode doc = docs.next();
                    if (doc == null || doc.isNull() || doc.isEmpty()) {
                        continue;
                    }
                    String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                    Class<? extends HasMetadata> cls = TYPES.get(type);
                    if (cls == null) {
                        throw new AssertionError(dir.relativize(file) + ": no typed check for " + type
                            + "; add its fabric8 class to Manifests.TYPES and a test for it");
                    }
                    HasMetadata object = json.treeToValue(doc, cls);
                    List<String> unknown = new ArrayList<>();
                    unknownFields(object, object.getKind(), unknown, 0);
                    if (!unknown.isEmpty()) {
                        throw new AssertionError(dir.relativize(file) + ": fields the Kubernetes model does not know: " + unknown);
                    }
                    manifests.objects.add(object);
                    manifests.sourceOf.put(object.getKind() + "/" + object.getMetadata().getName(), file);
                }
            }
        }
        return manifests;
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type) {
        List<T> found = all(type);
        if (found.size() != 1) {
            throw new AssertionError("expected exactly one " + type.getSimpleName() + " under k8s/, found " + found.size());
        }
        return found.get(0);
    }

    /** Walks the model: any {@code additionalProperties} left filled means YAML the typed model did not map. */
    private static void unknownFields(Object node, String path, List<String> unknown, int depth) {
        if (node == null || depth > 40) {
            return;
        }
        if (node instanceof Collection<?> list) {
            int i = 0;
            for (Object item : list) {
                unknownFields(item, path + "[" + i++ + "]", unknown, depth + 1);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                unknownFields(e.getValue(), path + "." + e.getKey(), unknown, depth + 1);
            }
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(k -> unknown.add(path + "." + k));
                }
                continue;
            }
            String field = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
            unknownFields(value, path + "." + field, unknown, depth + 1);
        }
    }
}
