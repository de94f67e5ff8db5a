package hl7v2

// oruLipids is a realistic lab result from a Hong Kong hospital laboratory:
// an HKID and a hospital number, two reports, every value type, notes and
// escapes.
const oruLipids = "MSH|^~\\&|LIS|QMH LAB^2.16.344.1.1^ISO|EHEALTH|EHEALTH|20261129101500+0800||ORU^R01^ORU_R01|MSG00001|P|2.5.1\r" +
	"PID|1||A123456(3)^^^IMMD^HKID~HN0001^^^QMH&2.16.344.1.2&ISO^MR||CHAN^TAI MAN^^^MR||19800101|M\r" +
	"ORC|RE|PLC1|LAB123\r" +
	"OBR|1|PLC1^QMH|LAB123^QMH LAB^2.16.344.1.3^ISO|24331-1^Lipid panel^LN|||20261128083000|||||||||||||||20261129101000+0800|||F\r" +
	"NTE|1||Fasting sample\r" +
	"OBX|1|NM|2093-3^Cholesterol^LN||5.20|mmol/L^millimole per litre^UCUM|3.0-5.2|H|||F\r" +
	"NTE|1||Repeat in 3 months \\T\\ review diet\r" +
	"OBX|2|SN|2085-9^HDL Cholesterol^LN||>^1.0|mmol/L|>1.0|N|||F|||20261128084500+0800\r" +
	"OBX|3|ST|2089-1^LDL comment^LN||See note\\F\\ calculated||||||C\r" +
	"OBX|4|CWE|5778-6^Color of Urine^LN||371244009^Yellow^SCT||||||P\r" +
	"OBX|5|SN|5196-1^HBsAg titre^LN||^1^:^128||<1:16|A|||F\r" +
	"OBX|6|SN|5000-0^Range result^LN||^2^-^4|10*9/L||L~LL|||F\r" +
	"OBX|7|DT|8665-2^Last menstrual period^LN||20261101||||||F\r" +
	"OBX|8|TX|8251-1^Service comment^LN||line one~line two||||||X\r" +
	"OBR|2||LAB124^QMH LAB^2.16.344.1.3^ISO|2345-7^Glucose^LN|||20261128083000|||||||||||||||20261129101000|||P\r" +
	"OBX|1|NM|2345-7^Glucose^LN||+06.10|mmol/L||N|||P\r"
