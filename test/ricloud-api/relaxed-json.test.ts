import { describe, expect, it } from "vitest";
import { parseRelaxedJson } from "../../src/ricloud-api/relaxed-json.ts";

describe("request bodies as ricloud's curl examples write them", () => {
  it("forgives a comma before } or ] and a missing comma between members on separate lines", () => {
    expect(parseRelaxedJson('{\n  "identifier": "someone",\n}')).toEqual({ identifier: "someone" });
    expect(parseRelaxedJson('{"payload": {"data_types": ["callkit.calls"],}, }')).toEqual({
      payload: { data_types: ["callkit.calls"] },
    });
    expect(parseRelaxedJson('{\n  "password": "pw"\n  "code": "123456"\n}')).toEqual({
      password: "pw",
      code: "123456",
    });
    expect(parseRelaxedJson('{"a": 1\n"b": true\n"c": null\n"d": {}\n"e": "x"}')).toEqual({
      a: 1,
      b: true,
      c: null,
      d: {},
      e: "x",
    });
  });

  it("leaves strings alone and refuses everything else that is not JSON", () => {
    expect(parseRelaxedJson('{"text": "x,}"\n"y": "\\"z\\","\n}')).toEqual({ text: "x,}", y: '"z",' });
    for (const text of ["{nope", "{'a': 1}", '{"a": 1 "b": 2}', "[1,,2]", '{"a":,}', "", "{,}"]) {
      expect(() => parseRelaxedJson(text), text).toThrow();
    }
  });
});
