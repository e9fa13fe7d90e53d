import EvaluationRules
import Testing

/// The rating link's rater (W40): a `receipt:<number>` subject rates that one application, online,
/// anonymously; no identity code is ever read as a receipt.
@Suite("Receipt rater: the rating link without sign-in")
struct ReceiptRaterTests {
    let number = "3713022026112300000017"

    @Test("only digits after the prefix name an application; identity codes never do")
    func subjects() {
        #expect(ReceiptRater.applicationNumber(ofSubject: ReceiptRater.subject(applicationNumber: number)) == number)
        #expect(ReceiptRater.applicationNumber(ofSubject: "371302199001011233") == nil)
        #expect(ReceiptRater.applicationNumber(ofSubject: "receipt:37130219900101123X") == nil)
        #expect(ReceiptRater.applicationNumber(ofSubject: "receipt:") == nil)
        #expect(ReceiptRater.applicationNumber(ofSubject: "receipt:12345") == nil)
        #expect(ReceiptRater.applicationNumber(ofSubject: "Receipt:" + number) == nil)
    }

    @Test("that application, online, anonymous; anything else is refused with the reason")
    func refusals() {
        let subject = ReceiptRater.subject(applicationNumber: number)
        #expect(ReceiptRater.refusal(subject: subject, ratedNumber: number, channel: .online, anonymous: true) == nil)
        #expect(ReceiptRater.refusal(subject: subject, ratedNumber: "3713022026112300000018", channel: .online, anonymous: true)?.contains("only the application") == true)
        #expect(ReceiptRater.refusal(subject: subject, ratedNumber: number, channel: .onSite, anonymous: true)?.contains("online") == true)
        #expect(ReceiptRater.refusal(subject: subject, ratedNumber: number, channel: .online, anonymous: false)?.contains("anonymous") == true)
        #expect(ReceiptRater.refusal(subject: "371302199001011233", ratedNumber: number, channel: .online, anonymous: true) != nil)
    }
}
