"""The wording of every document, per letter language (English, German, Japanese).

Placeholders are filled by `documents.py` with escaped values; keys are the same in every
language, which a test checks, so a document never falls back to a half-translated text.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "reference": "Case reference",
        "date": "Date",
        "due": "Answer by",
        "post_licensing_letter.title": "Unlicensed use of a registered image: offer of a subsequent licence",
        "post_licensing_letter.body": (
            "We act for {owner}, who holds the rights to the image below. It was found on {page_url}, "
            "with no licence recorded for this use. We offer you a licence for the use so far, at the owner's own price "
            "as calculated below. If you hold a licence, upload the proof and the case pauses while the owner checks it."
        ),
        "invoice.title": "Invoice",
        "invoice.body": (
            "Our letter of {letter_date} about the image found on {page_url} has not been answered. We invoice the "
            "licence fee below, due by {due_date}. After that date the case passes to a partner law firm where the "
            "legal stages are available."
        ),
        "legal_letter.title": "Legal notice on behalf of the rights-holder",
        "legal_letter.body": (
            "{partner} represents {owner}, holder of the rights to the image below, on the strength of the mandate "
            "shown here. You used the image on {page_url} without a licence and left our earlier letters unanswered. "
            "We demand payment of the amount below by {due_date}; otherwise the rights-holder will bring the claim to court."
        ),
        "court_file.title": "Case file for the court claim",
        "court_file.body": (
            "Case file of the claim of {owner} against the operator of {domain}, prepared for {partner}. The archive "
            "named below holds every piece of evidence, the letters, the mails and the chain proofs; its SHA-256 "
            "was logged on-chain with the court-claim step."
        ),
        "court_file.archive": "Archive",
        "court_file.contents": "Contents of the archive",
        "court_file.timeline": "Course of the case",
        "dmca_notice.title": "Notice of claimed infringement (17 U.S.C. § 512(c)(3))",
        "dmca_notice.body": "This notice asks you, as the service provider hosting the material below, to remove it or disable access to it.",
        "dsa_notice.title": "Notice of illegal content (Regulation (EU) 2022/2065, Article 16)",
        "dsa_notice.body": "This notice informs you, as the provider of the hosting service, of illegal content on your service.",
        "takedown.work": "The copyrighted work",
        "takedown.infringing": "The infringing material and where it is",
        "takedown.contact": "The complaining party",
        "takedown.reasons": "Why the content is illegal",
        "takedown.reasons_text": (
            "The image is a copy of a work whose rights belong to {owner}, registered on-chain before the copy was found; "
            "no licence covers its use on {page_url}. Reproducing and making it available without a licence infringes copyright."
        ),
        "takedown.good_faith": (
            "I have a good faith belief that use of the material in the manner complained of is not authorized by the "
            "copyright owner, its agent, or the law."
        ),
        "takedown.accuracy": (
            "The information in this notification is accurate, and under penalty of perjury, I am authorized to act on "
            "behalf of the owner of an exclusive right that is allegedly infringed."
        ),
        "takedown.bona_fide": "I confirm my bona fide belief that the information and allegations in this notice are accurate and complete.",
        "takedown.signature": "Electronic signature",
        "images": "The registered image and the copy found",
        "registered_image": "Registered image",
        "found_copy": "Copy found on {found_at}",
        "proof": "Proof of registration",
        "registration_id": "Registration",
        "tx_hash": "Transaction",
        "block_time": "Registered at (block time)",
        "cid": "Content identifier (IPFS CID)",
        "verify": "Verify at",
        "mandate": "Mandate of the rights-holder",
        "mandate_text": (
            "{owner} mandated {agent} to enforce this registration (EIP-712 mandate, nonce {nonce}, valid until "
            "{expiry}); the signature below can be checked against the owner's address."
        ),
        "signature": "Signature",
        "fee": "The fee and its calculation",
        "item.licence_fee": "Licence fee",
        "item.damages": "Damages",
        "item.total": "Total",
        "answer": "How to answer",
        "answer_text": (
            "Open {respond_url} and enter the case reference {reference} and the secret {secret}. There you can "
            "upload a licence you hold (the case pauses for the owner's review), dispute the claim with a message, or "
            "pay the amount on-chain into the settlement escrow {escrow} (chain {chain_id}); instalments are accepted."
        ),
        "evidence.page": "Page",
        "evidence.image": "Image",
        "evidence.warc": "Web archive (WARC) of the page",
        "sender": "Copytrack enforcement, on behalf of the rights-holder",
    },
    "de": {
        "reference": "Aktenzeichen",
        "date": "Datum",
        "due": "Antwort bis",
        "post_licensing_letter.title": "Nicht lizenzierte Nutzung eines registrierten Bildes: Angebot einer Nachlizenzierung",
        "post_licensing_letter.body": (
            "Wir handeln für {owner}, Inhaber der Rechte an dem unten gezeigten Bild. Es wurde auf {page_url} gefunden, "
            "ohne dass für diese Nutzung eine Lizenz verzeichnet ist. Wir bieten Ihnen eine Lizenz für die bisherige "
            "Nutzung zum eigenen Preis des Rechteinhabers an, wie unten berechnet. Haben Sie eine Lizenz, laden Sie den "
            "Nachweis hoch; der Fall ruht, bis der Rechteinhaber ihn geprüft hat."
        ),
        "invoice.title": "Rechnung",
        "invoice.body": (
            "Unser Schreiben vom {letter_date} zu dem auf {page_url} gefundenen Bild blieb unbeantwortet. Wir stellen "
            "die unten aufgeführte Lizenzgebühr in Rechnung, fällig bis {due_date}. Danach geht der Fall an eine "
            "Partnerkanzlei, wo die rechtlichen Stufen verfügbar sind."
        ),
        "legal_letter.title": "Anwaltliches Schreiben im Auftrag des Rechteinhabers",
        "legal_letter.body": (
            "{partner} vertritt {owner}, Inhaber der Rechte an dem unten gezeigten Bild, aufgrund des hier gezeigten "
            "Mandats. Sie haben das Bild auf {page_url} ohne Lizenz genutzt und unsere früheren Schreiben nicht "
            "beantwortet. Wir fordern Sie auf, den unten genannten Betrag bis {due_date} zu zahlen; andernfalls wird "
            "der Rechteinhaber den Anspruch gerichtlich geltend machen."
        ),
        "court_file.title": "Verfahrensakte für die Klage",
        "court_file.body": (
            "Verfahrensakte des Anspruchs von {owner} gegen den Betreiber von {domain}, erstellt für {partner}. Das "
            "unten genannte Archiv enthält alle Beweise, die Schreiben, die E-Mails und die Blockchain-Nachweise; "
            "sein SHA-256 wurde mit der Stufe Klage auf der Blockchain protokolliert."
        ),
        "court_file.archive": "Archiv",
        "court_file.contents": "Inhalt des Archivs",
        "court_file.timeline": "Verlauf des Falls",
        "dmca_notice.title": "Mitteilung über eine behauptete Rechtsverletzung (17 U.S.C. § 512(c)(3))",
        "dmca_notice.body": "Diese Mitteilung fordert Sie als Host des unten genannten Materials auf, es zu entfernen oder den Zugang zu sperren.",
        "dsa_notice.title": "Meldung rechtswidriger Inhalte (Verordnung (EU) 2022/2065, Artikel 16)",
        "dsa_notice.body": "Diese Meldung informiert Sie als Anbieter des Hostingdienstes über rechtswidrige Inhalte in Ihrem Dienst.",
        "takedown.work": "Das urheberrechtlich geschützte Werk",
        "takedown.infringing": "Das rechtsverletzende Material und sein Fundort",
        "takedown.contact": "Die meldende Partei",
        "takedown.reasons": "Begründung der Rechtswidrigkeit",
        "takedown.reasons_text": (
            "Das Bild ist eine Kopie eines Werks, dessen Rechte bei {owner} liegen und das vor dem Fund auf der "
            "Blockchain registriert wurde; keine Lizenz deckt die Nutzung auf {page_url}. Die Vervielfältigung und "
            "öffentliche Zugänglichmachung ohne Lizenz verletzt das Urheberrecht."
        ),
        "takedown.good_faith": (
            "Ich bin in gutem Glauben der Überzeugung, dass die beanstandete Nutzung des Materials weder vom "
            "Rechteinhaber, seinem Vertreter noch vom Gesetz erlaubt ist."
        ),
        "takedown.accuracy": (
            "Die Angaben in dieser Mitteilung sind richtig, und ich bin unter Strafandrohung für Meineid befugt, für "
            "den Inhaber des angeblich verletzten ausschließlichen Rechts zu handeln."
        ),
        "takedown.bona_fide": "Ich bestätige meine redliche Überzeugung, dass die Angaben und Behauptungen in dieser Meldung richtig und vollständig sind.",
        "takedown.signature": "Elektronische Unterschrift",
        "images": "Das registrierte Bild und die gefundene Kopie",
        "registered_image": "Registriertes Bild",
        "found_copy": "Kopie gefunden am {found_at}",
        "proof": "Nachweis der Registrierung",
        "registration_id": "Registrierung",
        "tx_hash": "Transaktion",
        "block_time": "Registriert am (Blockzeit)",
        "cid": "Inhaltskennung (IPFS-CID)",
        "verify": "Prüfen unter",
        "mandate": "Mandat des Rechteinhabers",
        "mandate_text": (
            "{owner} hat {agent} mit der Durchsetzung dieser Registrierung beauftragt (EIP-712-Mandat, Nonce {nonce}, "
            "gültig bis {expiry}); die Signatur unten lässt sich gegen die Adresse des Inhabers prüfen."
        ),
        "signature": "Signatur",
        "fee": "Die Gebühr und ihre Berechnung",
        "item.licence_fee": "Lizenzgebühr",
        "item.damages": "Schadensersatz",
        "item.total": "Gesamt",
        "answer": "So antworten Sie",
        "answer_text": (
            "Öffnen Sie {respond_url} und geben Sie das Aktenzeichen {reference} und das Geheimnis {secret} ein. Dort "
            "können Sie eine Lizenz hochladen (der Fall ruht zur Prüfung durch den Inhaber), dem Anspruch mit einer "
            "Nachricht widersprechen oder den Betrag auf der Blockchain an das Treuhandkonto {escrow} (Chain "
            "{chain_id}) zahlen; Ratenzahlung ist möglich."
        ),
        "evidence.page": "Seite",
        "evidence.image": "Bild",
        "evidence.warc": "Webarchiv (WARC) der Seite",
        "sender": "Copytrack Rechtedurchsetzung, im Auftrag des Rechteinhabers",
    },
    "ja": {
        "reference": "案件番号",
        "date": "日付",
        "due": "回答期限",
        "post_licensing_letter.title": "登録画像の無許諾使用について：事後ライセンスのご案内",
        "post_licensing_letter.body": (
            "当社は、下記画像の権利者である{owner}の代理として連絡しております。この画像は{page_url}で発見されましたが、"
            "この使用についてライセンスの記録がありません。これまでの使用について、下記のとおり権利者自身の価格で"
            "ライセンスをご提案します。ライセンスをお持ちの場合は証明をアップロードしてください。権利者の確認中は案件を保留します。"
        ),
        "invoice.title": "請求書",
        "invoice.body": (
            "{letter_date}付の{page_url}で発見された画像に関する当社の書面にご回答がありません。下記のライセンス料を"
            "請求いたします。支払期限は{due_date}です。期限後は、法的手続きが可能な国では提携法律事務所に案件を移します。"
        ),
        "legal_letter.title": "権利者代理人からの通知書",
        "legal_letter.body": (
            "{partner}は、ここに示す委任に基づき、下記画像の権利者である{owner}を代理します。貴殿は{page_url}において"
            "ライセンスなしに画像を使用し、当社の書面にも回答されていません。{due_date}までに下記金額をお支払いください。"
            "お支払いがない場合、権利者は訴訟を提起します。"
        ),
        "court_file.title": "訴訟用事件記録",
        "court_file.body": (
            "{domain}の運営者に対する{owner}の請求に関する事件記録で、{partner}のために作成されました。下記アーカイブには"
            "すべての証拠、書面、メール、ブロックチェーン上の証明が含まれ、そのSHA-256は訴訟段階とともにブロックチェーンに記録されています。"
        ),
        "court_file.archive": "アーカイブ",
        "court_file.contents": "アーカイブの内容",
        "court_file.timeline": "案件の経過",
        "dmca_notice.title": "著作権侵害の通知（米国著作権法第512条(c)(3)）",
        "dmca_notice.body": "本通知は、下記資料をホストするサービスプロバイダーとして、その削除またはアクセスの無効化を求めるものです。",
        "dsa_notice.title": "違法コンテンツの通知（EU規則2022/2065 第16条）",
        "dsa_notice.body": "本通知は、ホスティングサービスの提供者として、貴サービス上の違法コンテンツをお知らせするものです。",
        "takedown.work": "著作物",
        "takedown.infringing": "侵害資料とその所在",
        "takedown.contact": "通知者",
        "takedown.reasons": "違法である理由",
        "takedown.reasons_text": (
            "この画像は、発見前にブロックチェーンに登録された、{owner}が権利を有する著作物の複製です。{page_url}での使用を"
            "対象とするライセンスはありません。ライセンスなしの複製および公衆送信は著作権を侵害します。"
        ),
        "takedown.good_faith": "申立ての対象となる資料の使用が、著作権者、その代理人または法律によって許可されていないと誠実に信じています。",
        "takedown.accuracy": "本通知の情報は正確であり、偽証罪の制裁のもとで、侵害されているとされる排他的権利の所有者を代理する権限があることを表明します。",
        "takedown.bona_fide": "本通知に含まれる情報および申立てが正確かつ完全であると誠実に信じていることを確認します。",
        "takedown.signature": "電子署名",
        "images": "登録画像と発見された複製",
        "registered_image": "登録画像",
        "found_copy": "{found_at}に発見された複製",
        "proof": "登録の証明",
        "registration_id": "登録",
        "tx_hash": "トランザクション",
        "block_time": "登録日時（ブロック時刻）",
        "cid": "コンテンツ識別子（IPFS CID）",
        "verify": "確認先",
        "mandate": "権利者の委任",
        "mandate_text": (
            "{owner}は、この登録の権利行使を{agent}に委任しました（EIP-712委任、ノンス{nonce}、有効期限{expiry}）。"
            "下記の署名は権利者のアドレスで検証できます。"
        ),
        "signature": "署名",
        "fee": "料金とその計算",
        "item.licence_fee": "ライセンス料",
        "item.damages": "損害賠償",
        "item.total": "合計",
        "answer": "回答方法",
        "answer_text": (
            "{respond_url}を開き、案件番号{reference}と秘密コード{secret}を入力してください。お持ちのライセンスの"
            "アップロード（権利者の確認のため案件は保留されます）、メッセージによる異議申立て、またはブロックチェーン上の"
            "決済エスクロー{escrow}（チェーン{chain_id}）への支払いができます。分割払いも可能です。"
        ),
        "evidence.page": "ページ",
        "evidence.image": "画像",
        "evidence.warc": "ページのウェブアーカイブ（WARC）",
        "sender": "Copytrack 権利行使部門（権利者の代理）",
    },
}
