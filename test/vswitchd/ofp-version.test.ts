import { describe, expect, it } from "vitest";
import {
  actionContextOf,
  actionsForVersion,
  ofpVersionsFromNames,
  ofpVersionsFromProtocols,
  ofpVersionsText,
  ofpVersionTag,
} from "../../vswitchd/index.js";

describe("OpenFlow version bitmaps", () => {
  it("reads Bridge.protocols names, empty meaning OpenFlow 1.0 to 1.5", () => {
    expect(ofpVersionsFromNames(["OpenFlow13"])).toBe(1 << 4);
    expect(ofpVersionsFromNames([])).toBe(0b1111110);
    expect(ofpVersionsFromProtocols("OpenFlow10,OXM-OpenFlow13")).toBe((1 << 1) | (1 << 4));
  });

  it("describes a bitmap as vconn.c does in its negotiation warning", () => {
    expect(ofpVersionsText(1 << 4)).toBe("version 0x04");
    expect(ofpVersionsText(0b110)).toBe("version 0x02 and earlier");
    expect(ofpVersionsText((1 << 1) | (1 << 4))).toBe("versions 0x01, 0x04");
    expect(ofpVersionTag(0x01)).toBe("");
    expect(ofpVersionTag(0x04)).toBe(" (OF1.3)");
  });
});

describe("actions read back over a later OpenFlow version", () => {
  it("keeps OpenFlow 1.0 text for OpenFlow 1.0", () => {
    expect(actionsForVersion("strip_vlan,output:1", 0x01, actionContextOf(""))).toBe(
      "strip_vlan,output:1",
    );
  });

  it("pushes a VLAN before set_vlan_vid only when the flow has none", () => {
    expect(actionsForVersion("mod_vlan_vid:7,mod_vlan_pcp:3", 0x02, actionContextOf(""))).toBe(
      "push_vlan:0x8100,set_vlan_vid:7,set_vlan_pcp:3",
    );
    expect(actionsForVersion("mod_vlan_vid:7", 0x04, actionContextOf("dl_vlan=5"))).toBe(
      "set_field:4103->vlan_vid",
    );
  });

  it("names the L4 field of mod_tp_dst after the match's protocol", () => {
    expect(actionsForVersion("mod_tp_dst:53", 0x04, actionContextOf("udp"))).toBe(
      "set_field:53->udp_dst",
    );
    expect(actionsForVersion("mod_nw_tos:8,mod_nw_src:10.0.0.1", 0x03, actionContextOf("ip"))).toBe(
      "set_field:2->ip_dscp,set_field:10.0.0.1->ip_src",
    );
  });
});
